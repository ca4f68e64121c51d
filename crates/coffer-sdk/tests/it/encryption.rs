//! The encryption client against the server (being written).
