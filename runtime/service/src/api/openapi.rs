//! The OpenAPI 3.1 document of the API, built from the route table ([`super::routes`]).

use super::{In, Route, Shared};
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

/// The operation's name: its method and its path's words (`get_agents_name_performance`).
fn operation_id(r: &Route) -> String {
    let words: Vec<&str> = r
        .path
        .trim_start_matches("/api/v1/")
        .split(['/', '.'])
        .map(|w| w.trim_matches(['{', '}']))
        .filter(|w| !w.is_empty())
        .collect();
    format!("{}_{}", r.method, words.join("_"))
}

fn operation(r: &Route) -> Value {
    let params: Vec<Value> = r
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": if p.place == In::Path { "path" } else { "query" },
                "required": p.place == In::Path,
                "description": p.about,
                "schema": {"type": p.kind},
            })
        })
        .collect();
    let error = json!({"$ref": "#/components/responses/Error"});
    let mut op = json!({
        "operationId": operation_id(r),
        "summary": r.summary,
        "parameters": params,
        "responses": {
            "200": {"description": "The resource, as JSON", "content": {"application/json": {}}},
            "400": error, "401": error, "404": error, "413": error,
        },
    });
    if r.public {
        op["security"] = json!([]);
    }
    op
}

/// The document for `routes`.
pub fn build(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = operation(r);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "strat service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The API of `strat serve`: its agents, triggers, runs, executions, orders and account. Every operation but the webhooks needs `Authorization: Bearer TOKEN` (`strat token` prints it).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "What went wrong",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"error": {"type": "object", "properties": {
                            "code": {"type": "string"}, "message": {"type": "string"}
                        }}}
                    }}}
                }
            }
        }
    })
}

pub async fn document(State(_): State<Shared>) -> Json<Value> {
    Json(build(&super::routes()))
}
