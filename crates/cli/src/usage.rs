//! The `Failure` a command gives (its message and exit status), and what every command's
//! `--help` ends with: its examples and the exit statuses.

/// What every command's `--help` says about how it ends (the statuses `Failure` gives; clap
/// gives 2 for a usage error, 0 for `--help` and `--version`).
#[macro_export]
macro_rules! exit_statuses {
    () => {
        "Exit status:
  0  done
  1  refused: the input is invalid (a configuration, a description, a module, an image
     reference), or the registry refused, could not be reached, or sent an image that
     fails a check
  2  a usage error (a missing, unknown or mistyped argument), or a file or folder that
     cannot be read or written"
    };
}

/// A command's `after_help`: `Examples:` with the given lines, then the exit statuses.
#[macro_export]
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("Examples:\n", $("  ", $line, "\n",)+ "\n", $crate::exit_statuses!())
    };
}

/// A failure and the exit status it gives (1 or 2, as `exit_statuses!` says).
pub struct Failure {
    pub status: u8,
    pub message: String,
}
