//! Transfer manager (being written).
