//! Schemas and type expressions of model answers.

use super::*;

impl Parser<'_> {
    pub(super) fn schema(&mut self) -> Schema {
        let start = self.tok().span;
        let mut fields = Vec::new();
        self.braced("schema", |p| {
            let Some(name) = p.name("a field name") else {
                p.recover_line();
                return;
            };
            let ty = if p.expect(Kind::Colon, "`:` and the field's type").is_some() {
                p.type_expr()
            } else {
                p.recover_line();
                TypeExpr::Error(p.prev_end())
            };
            let span = name.span.to(ty.span());
            fields.push(SchemaField { name, ty, span });
            p.eat(Kind::Comma);
        });
        Schema { fields, span: start.to(self.prev_end()) }
    }

    pub(super) fn type_expr(&mut self) -> TypeExpr {
        if !self.enter() {
            return TypeExpr::Error(self.prev_end());
        }
        let t = self.type_primary();
        let t = if let TypeExpr::Named { name, args, span } = &t
            && args.is_empty()
            && self.at(Kind::Pipe)
        {
            let mut variants = vec![name.clone()];
            let mut span = *span;
            while self.eat(Kind::Pipe).is_some() {
                match self.name("an enum variant") {
                    Some(n) => {
                        span = span.to(n.span);
                        variants.push(n);
                    }
                    None => break,
                }
            }
            TypeExpr::Enum(variants, span)
        } else {
            t
        };
        let t = match self.eat(Kind::Question) {
            Some(q) => {
                let span = t.span().to(q.span);
                TypeExpr::Optional(Box::new(t), span)
            }
            None => t,
        };
        self.exit();
        t
    }

    pub(super) fn type_primary(&mut self) -> TypeExpr {
        if self.at(Kind::LBrace) {
            return TypeExpr::Record(self.schema());
        }
        let Some(name) = self.name("a type such as `number`, `text`, `buy | sell`, `list<symbol>` or `{ … }`") else {
            return TypeExpr::Error(self.tok().span);
        };
        let mut args = Vec::new();
        if self.eat(Kind::Lt).is_some() {
            loop {
                args.push(self.type_expr());
                if self.eat(Kind::Comma).is_none() {
                    break;
                }
            }
            self.expect(Kind::Gt, "`>` to close the type arguments");
        }
        let span = name.span.to(self.prev_end());
        TypeExpr::Named { name, args, span }
    }
}
