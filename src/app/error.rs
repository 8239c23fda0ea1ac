//! The one error type of the pages' server functions, shared by server and browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::FieldErrors;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Fields to correct, each with its message.
    #[error("please correct the highlighted fields: {0}")]
    Invalid(FieldErrors),
    #[error("please sign in")]
    Unauthenticated,
    /// A sign-in with a wrong e-mail or password (401; never says which).
    #[error("wrong e-mail or password.")]
    BadCredentials,
    #[error("you are not allowed to do this")]
    NotAllowed,
    #[error("not found")]
    NotFound,
    /// The request was understood and refused; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Throttled(String),
    #[error("this form has expired; reload the page and try again")]
    Csrf,
    #[error("something went wrong on our side; please try again")]
    Internal,
    #[error("the request could not be completed: {0}")]
    Request(String),
}

impl AppError {
    /// The message for one field, when the error is about fields.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid(errors) => errors.for_field(name).map(str::to_string),
            _ => None,
        }
    }

    /// The message shown above a form.
    pub fn summary(&self) -> String {
        match self {
            AppError::Invalid(_) => "Please correct the highlighted fields.".into(),
            other => {
                let s = other.to_string();
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}
