//! A jsonb argument that reaches the function even when serde_json cannot read it.
//!
//! pgrx's own `JsonB` argument parses the value before the function runs and panics (XX000) on what
//! PostgreSQL's jsonb accepts but serde_json does not: nesting deeper than 128 levels, or a number beyond a
//! double (`1e1000`). This type keeps the failure, so `auth_api` raises a documented 22023 instead.

use crate::domain::error::AuthError;
use pgrx::callconv::{Arg, ArgAbi};
use pgrx::nullable::Nullable;
use pgrx::{pg_sys, FromDatum, JsonB};
use std::ffi::CStr;

pub struct JsonArgument(Option<serde_json::Value>);

impl JsonArgument {
    /// The value, or 22023 naming the argument when it could not be read.
    pub fn read(self, name: &'static str) -> Result<JsonB, AuthError> {
        self.0.map(JsonB).ok_or(AuthError::UnreadableJson(name))
    }
}

impl FromDatum for JsonArgument {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: the datum is a jsonb (the SQL signature says so); jsonb_out detoasts it and returns a palloc'd
        // C string, copied before it is freed.
        unsafe {
            let text = pgrx::direct_function_call::<&CStr>(pg_sys::jsonb_out, &[Some(datum)])?;
            let parsed = text.to_str().ok().and_then(|s| serde_json::from_str(s).ok());
            pg_sys::pfree(text.as_ptr() as *mut std::ffi::c_void);
            Some(JsonArgument(parsed))
        }
    }
}

// SAFETY: unboxed exactly as pgrx unboxes its own FromDatum argument types.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonArgument {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe { arg.unbox_arg_using_from_datum().unwrap_or_else(|| panic!("argument {index} must not be null")) }
    }

    unsafe fn unbox_nullable_arg(arg: Arg<'_, 'fcx>) -> Nullable<Self> {
        unsafe { arg.unbox_arg_using_from_datum().into() }
    }
}

pgrx::impl_sql_translatable!(JsonArgument, arg_only = "jsonb");
