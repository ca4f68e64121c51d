//! Client-side encryption client (being written).
