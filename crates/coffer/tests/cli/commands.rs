//! Every client command, end to end.

use crate::support::{data, start, write};

#[test]
fn every_command_end_to_end() {
    let server = start();
    let b = "cos://clitest-1250000000";
    let dir = tempfile::tempdir().unwrap();
    assert!(server.ok(&["mb", b]).contains("made"));
    assert!(server.ok(&["ls"]).contains("cos://clitest-1250000000"));
    let json = server.ok(&["ls", "--json"]);
    assert!(json.contains("\"bucket\":\"clitest-1250000000\""), "{json}");

    // Single files up, with options; a large one goes multipart.
    let small = dir.path().join("small.txt");
    write(&small, b"hello cli");
    server.ok(&[
        "cp",
        small.to_str().unwrap(),
        &format!("{b}/docs/"),
        "--content-type",
        "text/x-cli",
        "--meta",
        "owner=me",
    ]);
    let big = dir.path().join("big.bin");
    let big_content = data(22 << 20, 1);
    write(&big, &big_content);
    server.ok(&[
        "cp",
        big.to_str().unwrap(),
        &format!("{b}/big.bin"),
        "--part-size",
        "4",
        "--threads",
        "3",
    ]);

    let listing = server.ok(&["ls", b]);
    assert!(
        listing.contains("DIR") && listing.contains("/docs/"),
        "{listing}"
    );
    assert!(
        listing.contains("23068672") && listing.contains("big.bin"),
        "{listing}"
    );
    let recursive = server.ok(&["ls", "-r", "--json", b]);
    assert!(
        recursive.contains("\"key\":\"docs/small.txt\""),
        "{recursive}"
    );

    let stat = server.ok(&["stat", &format!("{b}/docs/small.txt")]);
    assert!(stat.contains("content-type: text/x-cli"), "{stat}");
    assert!(stat.contains("x-cos-meta-owner: me"), "{stat}");
    assert_eq!(
        server.ok(&["cat", &format!("{b}/docs/small.txt")]),
        "hello cli"
    );

    // A reader that leaves early (`| head`) ends the command quietly.
    let piped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "\"$0\" cat {b}/big.bin | head -c 5 >/dev/null; echo done"
        ))
        .arg(crate::support::BIN)
        .env("COFFER_CONFIG", &server.config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&piped.stdout), "done\n");

    // Down, and cos → cos.
    let back = dir.path().join("back.bin");
    server.ok(&["cp", &format!("{b}/big.bin"), back.to_str().unwrap()]);
    assert!(std::fs::read(&back).unwrap() == big_content);
    server.ok(&[
        "cp",
        &format!("{b}/docs/small.txt"),
        &format!("{b}/copies/"),
    ]);
    assert_eq!(
        server.ok(&["cat", &format!("{b}/copies/small.txt")]),
        "hello cli"
    );

    // Trees with nested unicode names, both ways.
    let tree = dir.path().join("tree");
    write(&tree.join("a.txt"), b"a");
    write(&tree.join("子目录/深 层/b.txt"), b"b");
    write(&tree.join("x/y/z.bin"), &data(1000, 2));
    server.ok(&["cp", "-r", tree.to_str().unwrap(), &format!("{b}/tree")]);
    let restored = dir.path().join("restored");
    server.ok(&[
        "cp",
        "-r",
        &format!("{b}/tree/"),
        restored.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(restored.join("子目录/深 层/b.txt")).unwrap(),
        b"b"
    );
    assert_eq!(
        std::fs::read(restored.join("x/y/z.bin")).unwrap(),
        data(1000, 2)
    );

    // Errors: service code, message, request id, the path, non-zero exit; no panic.
    let missing = server.run(&["cat", &format!("{b}/nope")]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("NoSuchKey") && err.contains("request id") && err.contains("nope"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    let bad = server.run(&["ls", "cos://bad_name"]);
    assert!(!bad.status.success());

    // rm: one key, then a prefix (needs --yes when not on a terminal).
    server.ok(&["rm", &format!("{b}/copies/small.txt")]);
    let refused = server.run(&["rm", "-r", &format!("{b}/tree/")]);
    assert!(!refused.status.success());
    assert!(server
        .ok(&["rm", "-r", "--yes", &format!("{b}/tree/")])
        .contains("deleted 3 objects"));
    assert!(!server.ok(&["ls", "-r", b]).contains("tree/"));

    // rb refuses a non-empty bucket; --force empties it first.
    assert!(!server.run(&["rb", b]).status.success());
    server.ok(&["rb", "--force", b]);
    assert!(!server.ok(&["ls"]).contains("clitest"));
}

/// Splits `http://host:port/path?query` and GETs it over a raw socket: (status, body).
fn http_get(url: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, target) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, answer[split + 4..].to_vec())
}

/// The `N` in "N <word>" of a summary line, e.g. `count_of(out, "transferred")`.
fn count_of(output: &str, word: &str) -> u64 {
    let before = &output[..output
        .find(&format!(" {word}"))
        .unwrap_or_else(|| panic!("no {word:?} in {output}"))];
    before
        .rsplit([' ', '\n', ','])
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no count before {word:?} in {output}"))
}

#[test]
fn sync_transfers_only_what_changed_and_mirrors_with_delete() {
    let server = start();
    let b = "cos://synctest-1250000000";
    server.ok(&["mb", b]);
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    write(&site.join("index.html"), b"<h1>v1</h1>");
    write(&site.join("css/a.css"), b"body{}");
    write(&site.join("图片/猫.png"), &data(5000, 3));
    // Above the single-PUT threshold: a multipart ETag, so sync compares CRC-64s.
    write(&site.join("video.bin"), &data(21 << 20, 4));
    let site_arg = site.to_str().unwrap();
    let dest = format!("{b}/site/");

    let first = server.ok(&["sync", site_arg, &dest, "--part-size", "8"]);
    assert_eq!(count_of(&first, "transferred"), 4, "{first}");
    // Idempotence: nothing changed, nothing moves.
    let second = server.ok(&["sync", site_arg, &dest]);
    assert_eq!(count_of(&second, "transferred"), 0, "{second}");
    assert_eq!(count_of(&second, "unchanged"), 4, "{second}");

    // Same size, other bytes: found by MD5 (single part) and CRC-64 (multipart).
    write(&site.join("index.html"), b"<h1>v2</h1>");
    let mut video = data(21 << 20, 4);
    video[12345] ^= 1;
    write(&site.join("video.bin"), &video);
    write(&site.join("new.txt"), b"new");
    std::fs::remove_file(site.join("css/a.css")).unwrap();
    let dry = server.ok(&["sync", "--dry-run", "--delete", site_arg, &dest]);
    assert!(
        dry.contains("dry run: 3 to transfer, 1 unchanged, 1 to delete"),
        "{dry}"
    );
    let third = server.ok(&["sync", "--delete", site_arg, &dest]);
    assert_eq!(count_of(&third, "transferred"), 3, "{third}");
    assert_eq!(count_of(&third, "deleted"), 1, "{third}");
    assert_eq!(
        server.ok(&["cat", &format!("{dest}index.html")]),
        "<h1>v2</h1>"
    );
    assert!(!server.ok(&["ls", "-r", b]).contains("a.css"));
    assert_eq!(
        count_of(&server.ok(&["sync", site_arg, &dest]), "transferred"),
        0
    );

    // The other way: a local mirror of the prefix, then --delete removes a stray file.
    let mirror = dir.path().join("mirror");
    write(&mirror.join("stray.txt"), b"not in the bucket");
    let down = server.ok(&["sync", "--delete", &dest, mirror.to_str().unwrap()]);
    assert_eq!(count_of(&down, "transferred"), 4, "{down}");
    assert!(!mirror.join("stray.txt").exists());
    assert_eq!(std::fs::read(mirror.join("video.bin")).unwrap(), video);
    assert_eq!(
        std::fs::read(mirror.join("图片/猫.png")).unwrap(),
        data(5000, 3)
    );
    let again = server.ok(&["sync", &dest, mirror.to_str().unwrap()]);
    assert_eq!(count_of(&again, "transferred"), 0, "{again}");

    // cos → cos, with filters.
    let copy = server.ok(&["sync", &dest, &format!("{b}/backup/"), "--exclude", "*.bin"]);
    assert_eq!(count_of(&copy, "transferred"), 3, "{copy}");
    let copy_again = server.ok(&["sync", &dest, &format!("{b}/backup/"), "--exclude", "*.bin"]);
    assert_eq!(count_of(&copy_again, "transferred"), 0, "{copy_again}");
    assert!(!server
        .ok(&["ls", "-r", &format!("{b}/backup/")])
        .contains("video.bin"));
}

#[test]
fn filters_moves_and_recursive_copies_between_buckets() {
    let server = start();
    let b = "cos://movetest-1250000000";
    let other = "cos://movetest2-1250000000";
    server.ok(&["mb", b]);
    server.ok(&["mb", other]);
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    write(&tree.join("keep.txt"), b"1");
    write(&tree.join("sub/keep.txt"), b"2");
    write(&tree.join("sub/skip.log"), b"3");
    write(&tree.join("tmp/keep.txt"), b"4");

    // --include by name at any depth, --exclude by path from the root.
    let out = server.ok(&[
        "cp",
        "-r",
        tree.to_str().unwrap(),
        &format!("{b}/t/"),
        "--include",
        "*.txt",
        "--exclude",
        "tmp/**",
    ]);
    assert!(out.contains("2 files"), "{out}");
    let listing = server.ok(&["ls", "-r", b]);
    assert!(listing.contains("t/keep.txt") && listing.contains("t/sub/keep.txt"));
    assert!(
        !listing.contains("skip.log") && !listing.contains("tmp/"),
        "{listing}"
    );
    let bad_glob = server.run(&["cp", "-r", tree.to_str().unwrap(), b, "--include", "a["]);
    assert!(!bad_glob.status.success());
    let without_r = server.run(&["cp", tree.to_str().unwrap(), b, "--include", "*"]);
    assert!(!without_r.status.success());

    // cos → cos recursive across buckets, then mv removes the sources.
    server.ok(&["cp", "-r", &format!("{b}/t/"), &format!("{other}/copy/")]);
    assert_eq!(
        server.ok(&["cat", &format!("{other}/copy/sub/keep.txt")]),
        "2"
    );
    server.ok(&[
        "mv",
        "-r",
        &format!("{other}/copy/"),
        &format!("{other}/moved/"),
    ]);
    let moved = server.ok(&["ls", "-r", other]);
    assert!(
        moved.contains("moved/sub/keep.txt") && !moved.contains("copy/"),
        "{moved}"
    );
    let onto_itself = server.run(&["mv", &format!("{b}/t/keep.txt"), &format!("{b}/t/keep.txt")]);
    assert!(!onto_itself.status.success());

    // mv local → cos removes the file; cos → local removes the object.
    let file = dir.path().join("outbox.txt");
    write(&file, b"moving");
    server.ok(&["mv", file.to_str().unwrap(), &format!("{b}/inbox/")]);
    assert!(!file.exists());
    let back = dir.path().join("back.txt");
    server.ok(&[
        "mv",
        &format!("{b}/inbox/outbox.txt"),
        back.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&back).unwrap(), b"moving");
    assert!(!server.ok(&["ls", "-r", b]).contains("inbox"));
}

#[test]
fn hash_du_presign_abort_and_completions() {
    let server = start();
    let b = "cos://inspect-1250000000";
    server.ok(&["mb", b]);
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.bin");
    write(&small, &data(1000, 5));
    let big = dir.path().join("big.bin");
    write(&big, &data(21 << 20, 6));
    server.ok(&["cp", small.to_str().unwrap(), &format!("{b}/small.bin")]);
    server.ok(&["cp", big.to_str().unwrap(), &format!("{b}/big.bin")]);
    server.ok(&[
        "cp",
        small.to_str().unwrap(),
        &format!("{b}/cold/small.bin"),
        "--storage-class",
        "STANDARD_IA",
    ]);

    // hash: a local file and its object agree, for a single PUT and a multipart upload
    // (whose MD5 the command computes from the bytes).
    for (file, key) in [(&small, "small.bin"), (&big, "big.bin")] {
        let local = server.ok(&["hash", file.to_str().unwrap()]);
        let remote = server.ok(&["hash", &format!("{b}/{key}")]);
        let strip = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(strip(&local), strip(&remote), "{local}\n{remote}");
        assert!(
            local.contains("crc64-ecma:") && local.contains("md5:"),
            "{local}"
        );
    }
    let json = server.ok(&["hash", "--json", small.to_str().unwrap()]);
    assert!(json.contains("\"size\":1000"), "{json}");

    // du: by storage class, and as JSON.
    let du = server.ok(&["du", b]);
    assert!(du.contains("STANDARD_IA") && du.contains("TOTAL"), "{du}");
    let json = server.ok(&["du", "--json", b]);
    let total = 1000 * 2 + (21 << 20);
    assert!(
        json.contains("\"objects\":3") && json.contains(&format!("\"bytes\":{total}")),
        "{json}"
    );
    assert!(
        json.contains("\"STANDARD_IA\":{\"bytes\":1000,\"objects\":1}"),
        "{json}"
    );

    // presign: the URL works without credentials, until it expires.
    let url = server.ok(&["presign", "--expires", "10m", &format!("{b}/small.bin")]);
    let (status, body) = http_get(url.trim());
    assert_eq!(status, 200);
    assert_eq!(body, data(1000, 5));
    assert!(!server
        .run(&["presign", "--expires", "5w", &format!("{b}/x")])
        .status
        .success());

    // abort: uploads under a prefix, or one by id.
    let client = server.sdk();
    let ids: Vec<String> = crate::support::block_on(async {
        let mut ids = Vec::new();
        for key in ["up/a", "up/b", "other/c"] {
            let upload = client
                .create_multipart_upload(coffer_sdk::CreateMultipartUploadRequest::new(
                    "inspect-1250000000",
                    key,
                ))
                .await
                .unwrap();
            ids.push(upload.upload_id);
        }
        ids
    });
    let uploads = server.ok(&["ls", "--uploads", b]);
    assert_eq!(uploads.lines().count(), 3, "{uploads}");
    let aborted = server.ok(&["abort", &format!("{b}/up/")]);
    assert!(aborted.contains("2 uploads aborted"), "{aborted}");
    server.ok(&["abort", &format!("{b}/other/c"), "--upload-id", &ids[2]]);
    assert_eq!(server.ok(&["ls", "--uploads", b]), "");

    // Shell completions, and an example in every command's help.
    for shell in ["bash", "zsh", "fish"] {
        let script = server.ok(&["completions", shell]);
        assert!(
            script.contains("coffer") && script.contains("sync"),
            "{shell}"
        );
    }
    for command in [
        "serve",
        "bench",
        "config",
        "mb",
        "rb",
        "ls",
        "cp",
        "mv",
        "sync",
        "stat",
        "cat",
        "rm",
        "presign",
        "abort",
        "hash",
        "du",
        "completions",
    ] {
        let help = server.ok(&[command, "--help"]);
        assert!(help.contains("Example"), "coffer {command} --help: {help}");
    }
}
