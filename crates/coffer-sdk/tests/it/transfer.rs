//! Transfer manager tests (being written).
