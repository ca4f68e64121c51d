//! Chunked transfer decoding (`coffer-server` `http::body::chunked_step`).
//!
//! Input: the first byte picks the size of the pieces the rest arrives in. Invariants: never
//! a panic; never an empty data step; never more data bytes out than arrived; the same
//! result (data or rejection) however the bytes are split.

use bytes::BytesMut;
use coffer_server::fuzzing::{chunked_step, ChunkState, ChunkStep};

/// Decodes `input` fed `piece` bytes at a time: `Ok(data)` at the end of the body,
/// `Err(())` on malformed or incomplete input.
fn decode(input: &[u8], piece: usize) -> Result<Vec<u8>, ()> {
    let mut buf = BytesMut::new();
    let mut state = ChunkState::Size;
    let mut trailer_bytes = 0;
    let mut fed = 0;
    let mut out = Vec::new();
    while state != ChunkState::Done {
        match chunked_step(&mut buf, &mut state, &mut trailer_bytes).map_err(|_| ())? {
            ChunkStep::Data(data) => {
                assert!(!data.is_empty(), "empty data step");
                out.extend_from_slice(&data);
            }
            ChunkStep::Progress => {}
            ChunkStep::NeedMore => {
                let end = (fed + piece).min(input.len());
                if end == fed {
                    return Err(());
                }
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            }
        }
    }
    assert!(out.len() <= fed, "more data than input");
    Ok(out)
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let piece = usize::from(split % 64) + 1;
    let whole = decode(input, input.len().max(1));
    let pieces = decode(input, piece);
    assert_eq!(whole, pieces, "the split changed the result");
}
