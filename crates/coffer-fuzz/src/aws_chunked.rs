//! The `aws-chunked` body decoder of SigV4 streaming uploads
//! (`coffer_proto::auth::chunked`), in its three modes.
//!
//! Input: byte 0 picks the mode (signed, unsigned with trailer, signed with trailer) and the
//! size of the pieces the body arrives in, byte 1 the chunk size of the round trip (4 to
//! 1024 bytes), the rest
//! is the body. Invariants:
//! - decoding arbitrary bytes never panics and gives the same result — data, trailers, error
//!   — whether the body arrives whole or in pieces; the decoded length is the data's length
//!   and never less than the verified length;
//! - round trip: the same bytes encoded by `ChunkedEncoder` (in chunks, with a trailer in
//!   the trailer modes) decode, whole or in pieces, to exactly those bytes and trailers, all
//!   verified;
//! - integrity: in the signed modes, that encoding with any one byte changed either fails
//!   or still decodes to exactly the same data and trailers.

use coffer_proto::auth::chunked::{ChunkedDecoder, ChunkedEncoder, ChunkedError, ChunkedMode};
use coffer_proto::auth::sigv4::StreamingSigning;

/// What decoding a whole body gave.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    data: Vec<u8>,
    trailers: Vec<(String, String)>,
    result: Result<(), ChunkedError>,
}

fn signing() -> StreamingSigning {
    StreamingSigning {
        seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
        signing_key: [7; 32],
        timestamp: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
    }
}

fn mode(selector: u8) -> ChunkedMode {
    match selector % 3 {
        0 => ChunkedMode::Signed(signing()),
        1 => ChunkedMode::UnsignedTrailer,
        _ => ChunkedMode::SignedTrailer(signing()),
    }
}

/// Decodes `body` fed `piece` bytes at a time, then declares its end.
fn decode(mode: &ChunkedMode, body: &[u8], piece: usize) -> Decoded {
    let mut decoder = ChunkedDecoder::new(mode.clone());
    let mut data = Vec::new();
    let mut result = Ok(());
    for mut piece in body.chunks(piece.max(1)) {
        match decoder.decode(&mut piece, &mut data) {
            Ok(_) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        if decoder.is_done() {
            break;
        }
    }
    if result.is_ok() {
        result = decoder.finish();
    }
    assert_eq!(decoder.decoded_len(), data.len() as u64, "decoded length");
    assert!(decoder.verified_len() <= decoder.decoded_len());
    Decoded {
        data,
        trailers: decoder.trailers().to_vec(),
        result,
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let [selector, chunk_size, body @ ..] = data else {
        return;
    };
    let mode = mode(*selector);
    let piece = usize::from(selector / 3 % 32) + 1;

    // Arbitrary bodies: the split changes nothing.
    let whole = decode(&mode, body, body.len());
    assert_eq!(
        whole,
        decode(&mode, body, piece),
        "the split changed the result"
    );

    // Round trip through the encoder.
    let trailers = vec![("x-amz-checksum-crc32".to_string(), "AAAAAA==".to_string())];
    let mut encoder = ChunkedEncoder::new(mode.clone());
    let mut encoded = Vec::new();
    for chunk in body.chunks((usize::from(*chunk_size) + 1) * 4) {
        encoder.chunk(chunk, &mut encoded);
    }
    encoder.finish(&trailers, &mut encoded);
    let expected_trailers = match mode {
        ChunkedMode::Signed(_) => Vec::new(),
        _ => trailers,
    };
    let expected = Decoded {
        data: body.to_vec(),
        trailers: expected_trailers,
        result: Ok(()),
    };
    assert_eq!(decode(&mode, &encoded, encoded.len()), expected);
    assert_eq!(decode(&mode, &encoded, piece), expected);

    // One changed byte of a signed body never changes what it decodes to.
    if !matches!(mode, ChunkedMode::UnsignedTrailer) && !encoded.is_empty() {
        let at = (usize::from(*chunk_size) * 7919 + body.len()) % encoded.len();
        encoded[at] ^= selector | 1;
        let tampered = decode(&mode, &encoded, encoded.len());
        if tampered.result.is_ok() {
            assert_eq!(
                (&tampered.data, &tampered.trailers),
                (&expected.data, &expected.trailers),
                "a changed byte at {at} changed what a signed body decodes to"
            );
        }
    }
}
