//! The string forms of `docker run`'s flags, parsed into [`super::RunOptions`]' types.
