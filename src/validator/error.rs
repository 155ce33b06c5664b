//! Why the loop, or a command, stopped or refused; the binary maps it to an
//! exit status (`main.rs`).

use crate::inputs::InputError;

/// What ends the program, and with which status.
pub enum Failure {
    /// Bad usage or a bad input file: status 2.
    Input(String),
    /// Anything else: status 1.
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (Failure::Input(m) | Failure::Other(m)) = self;
        f.write_str(m)
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<crate::bridge::Error> for Failure {
    /// A blocking task that panicked or was cancelled with the runtime: not
    /// the input's fault.
    fn from(e: crate::bridge::Error) -> Self {
        Failure::Other(e.to_string())
    }
}
