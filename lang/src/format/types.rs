//! Types and schemas: `list<symbol>`, `buy | sell`, `number?`, `{ field: type, … }`.

use super::context::Ctx;
use super::doc::{Doc, concat, text};
use super::exprs::{Layout, bracketed};
use crate::span::Span;
use crate::syntax::ast::{Schema, SchemaField, TypeExpr};

pub fn type_expr(cx: &mut Ctx, t: &TypeExpr) -> Doc {
    match t {
        TypeExpr::Named { name, args, span } => {
            let name_doc = cx.leaf(name.span);
            if args.is_empty() {
                return name_doc;
            }
            let mut out = vec![name_doc, cx.next(name.span.end)];
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    if let Some(comma) = cx.token_before(a.span().start) {
                        out.push(cx.leaf(comma.span));
                    }
                    out.push(text(" "));
                }
                out.push(type_expr(cx, a));
            }
            out.push(cx.closer(*span));
            concat(out)
        }
        TypeExpr::Enum(variants, _) => {
            let mut out = Vec::with_capacity(variants.len() * 3);
            for (i, v) in variants.iter().enumerate() {
                if i > 0 {
                    out.push(text(" "));
                    if let Some(pipe) = cx.token_before(v.span.start) {
                        out.push(cx.leaf(pipe.span));
                    }
                    out.push(text(" "));
                }
                out.push(cx.leaf(v.span));
            }
            concat(out)
        }
        TypeExpr::Record(s) => schema(cx, s),
        TypeExpr::Optional(inner, span) => {
            let inner = type_expr(cx, inner);
            concat(vec![inner, cx.closer(*span)])
        }
        TypeExpr::Error(span) => cx.leaf(*span),
    }
}

/// `{ name: type, … }`: flat when it fits, else one field per line.
pub fn schema(cx: &mut Ctx, s: &Schema) -> Doc {
    let open = cx.leaf(Span { start: s.span.start, end: s.span.start + 1 });
    bracketed(cx, open, &s.fields, |f| f.span, field, s.span, Layout::Vertical, true)
}

fn field(cx: &mut Ctx, f: &SchemaField) -> Doc {
    let name = cx.leaf(f.name.span);
    let colon = cx.next(f.name.span.end);
    concat(vec![name, colon, text(" "), type_expr(cx, &f.ty)])
}
