//! `ASA_*` environment variables, read by one rule: `ASA_` plus a path in upper case
//! joined by `_`, each step a field name of the config type at that level or, in a map, an
//! entry's key (`ASA_UPSTREAM_TIMEOUT` is `upstream.timeout`, `ASA_PROXIES_DE` is
//! `proxies.DE`, `ASA_PLANS_GOLD_RPS` is `plans.gold.rps`).
//!
//! The field names and their kinds (number, flag, text, list, section, map) are read from
//! the config types' own `Deserialize`, traced once per load, so a new field needs no line
//! here. A value is written into the TOML tree typed by its field; the config's own
//! deserialization then checks it like a file value.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// What a config type reads, as far as an environment variable can set it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Shape {
    /// A struct with named fields: a section.
    Struct(Vec<(&'static str, Shape)>),
    /// Entries by key, each read as the inner shape.
    Map(Box<Shape>),
    /// A list: comma-separated in a variable.
    Seq(Box<Shape>),
    Option(Box<Shape>),
    Int,
    Float,
    Bool,
    /// Text the type reads itself (strings, durations, enum names, untagged values).
    Text,
}

impl Shape {
    /// The shape `T` deserializes, traced through its `Deserialize` implementation.
    pub(super) fn of<T: for<'de> Deserialize<'de>>() -> Result<Shape, String> {
        let slot = RefCell::new(None);
        T::deserialize(Tracer { slot: &slot }).map_err(|e| e.0)?;
        slot.into_inner()
            .ok_or_else(|| "nothing was read".to_string())
    }

    fn unwrapped(&self) -> &Shape {
        match self {
            Shape::Option(inner) => inner.unwrapped(),
            other => other,
        }
    }

    fn is_section(&self) -> bool {
        matches!(self.unwrapped(), Shape::Struct(_) | Shape::Map(_))
    }
}

/// Sets the key the variable `var` (`ASA_` + `rest`) names in `tree` to `value`.
pub(super) fn apply(
    tree: &mut toml::Value,
    shape: &Shape,
    rest: &str,
    value: &str,
) -> Result<(), String> {
    let (path, leaf) = resolve(shape, Some(tree), rest).ok_or("not a config key")?;
    let value = typed(leaf, value)?;
    let (last, parents) = path.split_last().ok_or("not a config key")?;
    let mut node = tree;
    for key in parents {
        node = node
            .as_table_mut()
            .ok_or_else(|| format!("{key} is not a section"))?
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    node.as_table_mut()
        .ok_or_else(|| format!("{last} is not in a section"))?
        .insert(last.clone(), value);
    Ok(())
}

/// The tree path and the shape of the key `name` (upper case, `_`-joined) names under
/// `shape`; `node` is what the tree already holds there, for the case of map keys.
fn resolve<'s>(
    shape: &'s Shape,
    node: Option<&toml::Value>,
    name: &str,
) -> Option<(Vec<String>, &'s Shape)> {
    let child = |key: &str| node.and_then(|n| n.get(key));
    match shape.unwrapped() {
        Shape::Struct(fields) => {
            // Longest field name first: `upstream_x` must not be read as `upstream` + `x`.
            let mut fields: Vec<&(&'static str, Shape)> = fields.iter().collect();
            fields.sort_by_key(|(field, _)| std::cmp::Reverse(field.len()));
            fields.into_iter().find_map(|(field, inner)| {
                let below = step(name, field)?;
                let (mut path, leaf) = match below {
                    None => (Vec::new(), inner),
                    Some(below) => resolve(inner, child(field), below)?,
                };
                path.insert(0, field.to_string());
                Some((path, leaf))
            })
        }
        Shape::Map(inner) if inner.is_section() => {
            // The key is all but a path its entry can read; the longest key that leaves
            // one wins, so a name with `_` in it still works (`ASA_PLANS_MY_PLAN_RPS`).
            name.match_indices('_').rev().find_map(|(at, _)| {
                let key = map_key(node, &name[..at]);
                let (mut path, leaf) = resolve(inner, child(&key), &name[at + 1..])?;
                path.insert(0, key);
                Some((path, leaf))
            })
        }
        Shape::Map(inner) => (!name.is_empty()).then(|| (vec![map_key(node, name)], &**inner)),
        _ => None,
    }
}

/// `Some(None)` when `name` is the field, `Some(Some(rest))` when it goes on below it.
fn step<'n>(name: &'n str, field: &str) -> Option<Option<&'n str>> {
    let up = field.to_ascii_uppercase();
    if name == up {
        return Some(None);
    }
    name.strip_prefix(&up)?.strip_prefix('_').map(Some)
}

/// A map entry's key as the variable writes it (upper case): the key the map already has
/// whatever its case; for a new one, lower case when every key of the map is (plan names),
/// else as written (country codes).
fn map_key(map: Option<&toml::Value>, written: &str) -> String {
    let keys: Vec<&String> = map
        .and_then(|m| m.as_table())
        .map(|t| t.keys().collect())
        .unwrap_or_default();
    if let Some(k) = keys.iter().find(|k| k.eq_ignore_ascii_case(written)) {
        return k.to_string();
    }
    let lower = !keys.is_empty() && keys.iter().all(|k| *k == &k.to_ascii_lowercase());
    if lower {
        written.to_ascii_lowercase()
    } else {
        written.to_string()
    }
}

/// The variable's text as the TOML value its field reads.
fn typed(shape: &Shape, value: &str) -> Result<toml::Value, String> {
    let v = value.trim();
    Ok(match shape.unwrapped() {
        Shape::Int => toml::Value::Integer(v.parse().map_err(|_| "expected an integer")?),
        Shape::Float => toml::Value::Float(v.parse().map_err(|_| "expected a number")?),
        Shape::Bool => toml::Value::Boolean(match v {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => return Err("expected true or false".into()),
        }),
        Shape::Seq(inner) => toml::Value::Array(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| typed(inner, s))
                .collect::<Result<_, _>>()?,
        ),
        Shape::Struct(_) | Shape::Map(_) => return Err("names a section, not a key".into()),
        Shape::Text | Shape::Option(_) => toml::Value::String(value.into()),
    })
}

/// A deserializer that gives every type a sample of what it asks for and records the
/// shape of its request. Text samples read as a duration too, so `humantime` fields pass.
struct Tracer<'s> {
    slot: &'s RefCell<Option<Shape>>,
}

const TEXT_SAMPLE: &str = "0s";

#[derive(Debug)]
struct TraceError(String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }
}

impl Tracer<'_> {
    fn put(&self, shape: Shape) {
        *self.slot.borrow_mut() = Some(shape);
    }
}

fn traced(slot: RefCell<Option<Shape>>) -> Shape {
    // A list or map the type never looked into holds text, as far as a variable goes.
    slot.into_inner().unwrap_or(Shape::Text)
}

macro_rules! leaf {
    ($($method:ident => $shape:expr, $visit:ident($sample:expr);)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
            self.put($shape);
            visitor.$visit($sample)
        })*
    };
}

macro_rules! unsupported {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, TraceError> {
            Err(TraceError(format!("{} is not a config value", stringify!($method))))
        })*
    };
}

impl<'de> de::Deserializer<'de> for Tracer<'_> {
    type Error = TraceError;

    leaf! {
        deserialize_any => Shape::Text, visit_str(TEXT_SAMPLE);
        deserialize_bool => Shape::Bool, visit_bool(false);
        deserialize_i8 => Shape::Int, visit_u64(0);
        deserialize_i16 => Shape::Int, visit_u64(0);
        deserialize_i32 => Shape::Int, visit_u64(0);
        deserialize_i64 => Shape::Int, visit_u64(0);
        deserialize_u8 => Shape::Int, visit_u64(0);
        deserialize_u16 => Shape::Int, visit_u64(0);
        deserialize_u32 => Shape::Int, visit_u64(0);
        deserialize_u64 => Shape::Int, visit_u64(0);
        deserialize_f32 => Shape::Float, visit_f64(0.0);
        deserialize_f64 => Shape::Float, visit_f64(0.0);
        deserialize_char => Shape::Text, visit_char('0');
        deserialize_str => Shape::Text, visit_str(TEXT_SAMPLE);
        deserialize_string => Shape::Text, visit_str(TEXT_SAMPLE);
        deserialize_identifier => Shape::Text, visit_str(TEXT_SAMPLE);
    }

    unsupported!(deserialize_bytes, deserialize_byte_buf, deserialize_unit);

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let inner = RefCell::new(None);
        let value = visitor.visit_some(Tracer { slot: &inner })?;
        self.put(Shape::Option(Box::new(traced(inner))));
        Ok(value)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let inner = RefCell::new(None);
        let value = visitor.visit_seq(OneElement {
            slot: &inner,
            done: false,
        })?;
        self.put(Shape::Seq(Box::new(traced(inner))));
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let inner = RefCell::new(None);
        let value = visitor.visit_map(OneEntry {
            slot: &inner,
            state: 0,
        })?;
        self.put(Shape::Map(Box::new(traced(inner))));
        Ok(value)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let slots: Vec<RefCell<Option<Shape>>> =
            fields.iter().map(|_| RefCell::new(None)).collect();
        let value = visitor.visit_map(Fields {
            fields,
            slots: &slots,
            next: 0,
        })?;
        let shapes = fields.iter().zip(slots).map(|(f, s)| (*f, traced(s)));
        self.put(Shape::Struct(shapes.collect()));
        Ok(value)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.put(Shape::Text);
        let first = variants
            .first()
            .ok_or_else(|| TraceError(format!("enum {name} has no variants")))?;
        visitor.visit_enum(de::value::StrDeserializer::<TraceError>::new(first))
    }
}

/// Every field of a struct, each traced into its own slot.
struct Fields<'s> {
    fields: &'static [&'static str],
    slots: &'s [RefCell<Option<Shape>>],
    next: usize,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        match self.fields.get(self.next) {
            Some(field) => seed
                .deserialize(de::value::StrDeserializer::<TraceError>::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, TraceError> {
        let slot = &self.slots[self.next];
        self.next += 1;
        seed.deserialize(Tracer { slot })
    }
}

/// A map with one entry, to trace what its values read.
struct OneEntry<'s> {
    slot: &'s RefCell<Option<Shape>>,
    state: u8,
}

impl<'de> MapAccess<'de> for OneEntry<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        if self.state > 0 {
            return Ok(None);
        }
        self.state = 1;
        seed.deserialize(de::value::StrDeserializer::<TraceError>::new("key"))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, TraceError> {
        seed.deserialize(Tracer { slot: self.slot })
    }
}

/// A list with one element, to trace what its elements read.
struct OneElement<'s> {
    slot: &'s RefCell<Option<Shape>>,
    done: bool,
}

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = TraceError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TraceError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        seed.deserialize(Tracer { slot: self.slot }).map(Some)
    }
}
