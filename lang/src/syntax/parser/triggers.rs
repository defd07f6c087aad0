//! Trigger specifications: `on …` with its clauses (`throttle`, `during market_hours`, …).

use super::*;

impl Parser<'_> {
    pub(super) fn trigger_spec(&mut self) -> TriggerSpec {
        let start = self.tok().span;
        let kind = if let Some(kw) = self.eat_word("schedule") {
            let cron = self.string_or_error("a cron expression as a string, e.g. \"0 9 * * 1-5\"");
            let tz = self.eat_word("tz").map(|_| self.string_or_error("a time zone name, e.g. \"America/New_York\""));
            let _ = kw;
            TriggerKind::Schedule { cron, tz }
        } else if self.eat_word("webhook").is_some() {
            let path = self.at(Kind::Str).then(|| self.string());
            let mut options = Vec::new();
            loop {
                if self.eat_word("secret").is_some() {
                    options.push(WebhookOption::Secret(self.expr()));
                } else if self.eat_word("payload").is_some() {
                    options.push(WebhookOption::Payload(self.schema()));
                } else {
                    break;
                }
            }
            TriggerKind::Webhook { path, options }
        } else if let Some(t) = self.eat_word("manual") {
            TriggerKind::Manual(t.span)
        } else {
            TriggerKind::Expr(self.expr())
        };
        let mut throttles = Vec::new();
        let mut market_hours = None;
        let mut clauses = Vec::new();
        loop {
            if let Some(kw) = self.eat_word("throttle") {
                loop {
                    let count = self.expr();
                    if self.eat_word("per").is_none() {
                        self.error_expected("`per` in a throttle such as `1 per 15m`");
                        self.recover_line();
                        break;
                    }
                    let window = self.expr();
                    let span = count.span().to(window.span());
                    throttles.push(Throttle { count, window, span });
                    if self.eat(Kind::Comma).is_none() {
                        break;
                    }
                }
                clauses.push(TriggerClause::Throttle(kw.span.to(self.prev_end())));
            } else if let Some(t) = self.eat_word("during") {
                if self.eat_word("market_hours").is_none() {
                    self.error_expected("`market_hours` after `during`");
                    self.recover_line();
                }
                let span = t.span.to(self.prev_end());
                market_hours = Some(span);
                clauses.push(TriggerClause::During(span));
            } else {
                break;
            }
        }
        TriggerSpec { kind, throttles, market_hours, clauses, span: start.to(self.prev_end()) }
    }
}
