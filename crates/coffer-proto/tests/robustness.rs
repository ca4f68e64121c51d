//! Every parser that reads the network, fed arbitrary and mutated input: none may panic.
//! A deterministic stand-in for fuzzing (cargo-fuzz needs a nightly toolchain).

use coffer_proto::auth::chunked::{ChunkedDecoder, ChunkedMode};
use coffer_proto::auth::cos::CosAuthorization;
use coffer_proto::auth::sigv4::SigV4Auth;
use coffer_proto::range::ByteRange;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "<?xml version=\"1.0\"?><Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object></Delete>",
    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;x&quot;</ETag></Part></CompleteMultipartUpload>",
    "bytes=0-499",
    "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1;2&q-key-time=1;2&q-header-list=host&q-url-param-list=&q-signature=00",
    "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
    "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
    "prefix=a+b%2F&delimiter=%2F&marker=&max-keys=10&encoding-type=url",
];

/// Returns mutated variants of the seeds: flipped bytes, cuts, insertions of syntax bytes.
fn corpus() -> Vec<Vec<u8>> {
    let mut rng = XorShift(0x00c0_ffee_d00d_f00d);
    let mut out = Vec::new();
    for round in 0..3000 {
        let mut input = SEEDS[round % SEEDS.len()].as_bytes().to_vec();
        for _ in 0..1 + rng.below(5) {
            if input.is_empty() {
                break;
            }
            let at = rng.below(input.len());
            match rng.below(5) {
                0 => input[at] = rng.next() as u8,
                1 => {
                    input.remove(at);
                }
                2 => input.insert(at, b"<>&;=%\r\n\"\0\xff"[rng.below(11)]),
                3 => input.truncate(at),
                _ => {
                    let copy = input[at..].to_vec();
                    input.extend_from_slice(&copy);
                }
            }
        }
        out.push(input);
    }
    out
}

#[test]
fn parsers_never_panic() {
    for input in corpus() {
        let text = String::from_utf8_lossy(&input);
        let _ = coffer_proto::xml::parse(&input);
        let _ = ByteRange::parse(&text).map(|r| r.resolve(1000));
        let _ = CosAuthorization::parse_header(&text);
        let _ = SigV4Auth::parse_header(&text);
        let _ = coffer_proto::query::Query::parse(&text).text_pairs();
        let _ = coffer_proto::encoding::decode_path(&text);
        let _ = coffer_proto::time::parse_http_date(&text);
        let _ = coffer_proto::checksum::parse_content_md5(&text);
        let mut decoder = ChunkedDecoder::new(ChunkedMode::UnsignedTrailer);
        let mut slice: &[u8] = &input;
        let mut out = Vec::new();
        let _ = decoder.decode(&mut slice, &mut out);
        let _ = decoder.finish();
    }
}
