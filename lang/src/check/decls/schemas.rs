//! Schemas and type expressions of model answers.

use super::*;

impl Checker<'_> {
    /// Converts a schema to a record type, reporting unknown types and repeated fields.
    pub(in crate::check) fn schema_ty(&mut self, s: &ast::Schema) -> Ty {
        let mut fields: Vec<(String, Ty)> = Vec::new();
        let mut first: BTreeMap<&str, Span> = BTreeMap::new();
        for f in &s.fields {
            let t = self.type_expr(&f.ty);
            if let Some(prev) = first.insert(f.name.text.as_str(), f.name.span) {
                let d = Diagnostic::new(
                    Code::DuplicateField,
                    self.file,
                    f.name.span,
                    format!("field `{}` is declared twice", f.name.text),
                )
                .label("declared again")
                .with_label(self.file, prev, "first declared here");
                self.push(d);
                continue;
            }
            fields.push((f.name.text.clone(), t));
        }
        Ty::record(None, fields)
    }

    pub(in crate::check) fn type_expr(&mut self, t: &TypeExpr) -> Ty {
        match t {
            TypeExpr::Record(s) => self.schema_ty(s),
            TypeExpr::Optional(inner, _) => Ty::Optional(Box::new(self.type_expr(inner))),
            TypeExpr::Error(_) => Ty::Unknown,
            TypeExpr::Enum(vs, span) => {
                let mut seen = BTreeSet::new();
                for v in vs {
                    if !seen.insert(v.text.as_str()) {
                        let d = Diagnostic::new(
                            Code::BadEnum,
                            self.file,
                            v.span,
                            format!("variant `{}` is listed twice", v.text),
                        )
                        .label("repeated");
                        self.push(d);
                    }
                }
                if seen.len() < 2 {
                    let d = Diagnostic::new(
                        Code::BadEnum,
                        self.file,
                        *span,
                        "an enum needs at least two different variants",
                    )
                    .label("one variant");
                    self.push(d);
                }
                Ty::enumeration(&vs.iter().map(|v| v.text.as_str()).collect::<Vec<_>>())
            }
            TypeExpr::Named { name, args, span } => {
                let n = name.text.as_str();
                let simple = match n {
                    "number" => Some(Ty::Number),
                    "bool" => Some(Ty::Bool),
                    "text" => Some(Ty::Text),
                    "percent" => Some(Ty::Percent),
                    "money" => Some(Ty::Money),
                    "price" => Some(Ty::Price),
                    "quantity" => Some(Ty::Quantity),
                    "duration" => Some(Ty::Duration),
                    "symbol" => Some(Ty::Symbol),
                    "timestamp" => Some(Ty::Timestamp),
                    "date" => Some(Ty::Date),
                    "sentiment" => Some(Ty::enumeration(strat_stdlib::SENTIMENT)),
                    _ => None,
                };
                if n == "list" {
                    return match args.as_slice() {
                        [inner] => Ty::List(Box::new(self.type_expr(inner))),
                        _ => {
                            let d = Diagnostic::new(
                                Code::UnknownType,
                                self.file,
                                *span,
                                "`list` takes one item type: `list<symbol>`",
                            )
                            .label("wrong type arguments");
                            self.push(d);
                            Ty::Unknown
                        }
                    };
                }
                if !args.is_empty() {
                    let d =
                        Diagnostic::new(Code::UnknownType, self.file, *span, format!("`{n}` takes no type arguments"))
                            .label("unexpected `<…>`");
                    self.push(d);
                }
                if let Some(t) = simple {
                    return t;
                }
                if strat_stdlib::record(n).is_some() {
                    return std_record(n);
                }
                const TYPES: &[&str] = &[
                    "number",
                    "bool",
                    "text",
                    "percent",
                    "money",
                    "price",
                    "quantity",
                    "duration",
                    "symbol",
                    "timestamp",
                    "date",
                    "sentiment",
                    "list",
                    "decision",
                ];
                let mut d = Diagnostic::new(Code::UnknownType, self.file, name.span, format!("unknown type `{n}`"))
                    .label("not a type");
                let alias = match n {
                    "string" | "str" => Some("text"),
                    "int" | "float" | "integer" | "f64" => Some("number"),
                    "boolean" => Some("bool"),
                    _ => None,
                };
                d = match alias.or_else(|| strat_stdlib::suggest(n, TYPES.iter().copied())) {
                    Some(s) => d.fix(name.span, s, format!("did you mean `{s}`?")),
                    None => d.help(format!("types are {}", TYPES.join(", "))),
                };
                self.push(d);
                Ty::Unknown
            }
        }
    }
}
