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
