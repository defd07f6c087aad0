//! No reply body makes a provider panic: arbitrary bytes, and JSON of every shape in the places
//! the readers look, through the Anthropic and OpenAI-compatible readers and error classifiers.

use proptest::prelude::*;
use serde_json::{Value as J, json};
use strat_engine::llm::{LlmRequest, ModelSpec};
use strat_models::config::Dialect;
use strat_models::http::{Raw, Wire};
use strat_models::{anthropic, openai::OpenAi};

fn request() -> LlmRequest {
    LlmRequest {
        agent: "A".into(),
        model: ModelSpec { name: "m".into(), provider: "x".into(), model: "m".into(), params: Default::default() },
        system: String::new(),
        prompt: String::new(),
        context: json!({}),
        account: json!({}),
        schema: json!({"type": "string", "enum": ["up", "down"]}),
        cached_prefix: None,
    }
}

fn value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>().prop_map(J::from),
        "[a-z_ {}\"\\[\\]]{0,12}".prop_map(J::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let keys = prop::sample::select(vec![
            "content",
            "type",
            "text",
            "error",
            "message",
            "code",
            "details",
            "error_code",
            "choices",
            "usage",
            "refusal",
            "finish_reason",
            "stop_reason",
            "input_tokens",
            "prompt_tokens",
            "tool_calls",
            "function",
            "arguments",
            "object",
            "input",
            "answer",
            "model",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::vec((keys, inner), 0..6)
                .prop_map(|kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn read_all(status: u16, body: &[u8]) {
    let r = request();
    let raw = Raw {
        status,
        headers: vec![("retry-after".into(), "Thu, 01 Jan 1970 00:00:00 GMT".into())],
        body: body.to_vec(),
    };
    let _ = anthropic::parse(&r, body);
    let _ = anthropic::classify("anthropic", &raw, Some(0.0));
    for d in [Dialect::OpenAi, Dialect::Ollama, Dialect::LlamaCpp, Dialect::Vllm] {
        let w = OpenAi { dialect: d };
        let _ = w.parse(&r, body);
        let f = w.classify("openai", &raw, None);
        assert!(!f.message.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..256)) {
        read_all(status, &body);
    }

    #[test]
    fn json_of_any_shape(status in prop::sample::select(vec![200u16, 400, 401, 429, 500, 503, 529]), v in value()) {
        read_all(status, v.to_string().as_bytes());
        // And wrapped where the readers look first.
        let nested = json!({"content": [v.clone()], "choices": [{"message": v.clone()}], "error": v});
        read_all(status, nested.to_string().as_bytes());
    }
}
