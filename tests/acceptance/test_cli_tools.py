"""Acceptance tests: command-line S3 tools against Coffer, run as subprocesses.

* AWS CLI (`aws s3 …`, `aws s3api …`) with --endpoint-url and path-style addressing;
* rclone with an on-the-fly remote `coffer:` (type s3, provider Other) from RCLONE_CONFIG_COFFER_*;
* s3cmd with --host/--host-bucket pointing at the server, no SSL, SigV4.

rclone and s3cmd tests are skipped (with the reason) when the tool is not installed.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coffer_harness import (ROOT_SECRET_ID, ROOT_SECRET_KEY, empty_s3_bucket,
                            loopback_only_environment, unique_name)

MiB = 1024 * 1024
TOOL_TIMEOUT = 300


def find_tool(name):
    """Prefer the tool installed next to this Python (the suite's virtualenv), then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def run_tool(argv, env, check=True, cwd=None):
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        pytest.fail("command failed (exit %d): %s\n--- stdout\n%s\n--- stderr\n%s"
                    % (result.returncode, " ".join(argv), result.stdout[-4000:],
                       result.stderr[-4000:]), pytrace=False)
    return result


def make_tree(root, files):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def tree_digest(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


SAMPLE_FILES = {
    "a.txt": b"alpha\n",
    "dir/b.bin": bytes(range(256)) * 40,
    "dir/sub dir/c d.txt": b"spaces in names\n",
    "dir/plus+sign.txt": b"plus\n",
    "unicode/中文.txt": "中文内容\n".encode("utf-8"),
    "empty.txt": b"",
}


# ----------------------------------------------------------------------------------------
# AWS CLI
# ----------------------------------------------------------------------------------------

@pytest.fixture
def aws(coffer_server, tmp_path):
    binary = find_tool("aws")
    if binary is None:
        pytest.skip("the AWS CLI (`aws`) is not installed; pip install awscli")
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    env = loopback_only_environment()
    env.update({
        "AWS_ACCESS_KEY_ID": ROOT_SECRET_ID,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    })
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(name, None)

    def invoke(*args, check=True):
        return run_tool([binary, "--endpoint-url", coffer_server.endpoint] + list(args), env,
                        check=check)
    return invoke


@pytest.fixture
def aws_bucket(aws, s3_client):
    name = unique_name("awscli")
    aws("s3", "mb", "s3://%s" % name)
    yield name
    aws("s3", "rb", "--force", "s3://%s" % name, check=False)


class TestAwsCli:
    def test_mb_ls_rb(self, aws, s3_client):
        name = unique_name("awscli-mb")
        assert "make_bucket: %s" % name in aws("s3", "mb", "s3://%s" % name).stdout
        assert name in aws("s3", "ls").stdout
        assert "remove_bucket: %s" % name in aws("s3", "rb", "s3://%s" % name).stdout
        assert name not in aws("s3", "ls").stdout

    def test_cp_up_and_down_small(self, aws, aws_bucket, tmp_path):
        source = tmp_path / "hello.txt"
        source.write_bytes(b"hello from the aws cli\n")
        aws("s3", "cp", str(source), "s3://%s/dir/hello.txt" % aws_bucket)
        target = tmp_path / "back.txt"
        aws("s3", "cp", "s3://%s/dir/hello.txt" % aws_bucket, str(target))
        assert target.read_bytes() == source.read_bytes()

    def test_cp_multipart_file(self, aws, aws_bucket, tmp_path, s3_client):
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(20 * MiB + 11))  # above the CLI's 8 MiB threshold
        aws("s3", "cp", str(source), "s3://%s/big.bin" % aws_bucket)
        head = s3_client.head_object(Bucket=aws_bucket, Key="big.bin")
        assert head["ETag"].endswith('-3"'), "expected a 3-part upload: %r" % head["ETag"]
        target = tmp_path / "big.back"
        aws("s3", "cp", "s3://%s/big.bin" % aws_bucket, str(target))
        assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(
            source.read_bytes()).digest()

    def test_ls_lists_keys_and_prefixes(self, aws, aws_bucket, s3_client):
        for key in ("top.txt", "dir/one.txt", "dir/two.txt", "dir/sub/three.txt"):
            s3_client.put_object(Bucket=aws_bucket, Key=key, Body=b"x" * 7)
        listing = aws("s3", "ls", "s3://%s/" % aws_bucket).stdout
        assert "PRE dir/" in listing and "top.txt" in listing
        recursive = aws("s3", "ls", "--recursive", "s3://%s" % aws_bucket).stdout
        for key in ("top.txt", "dir/one.txt", "dir/two.txt", "dir/sub/three.txt"):
            assert key in recursive

    def test_sync_round_trip(self, aws, aws_bucket, tmp_path):
        local = tmp_path / "local"
        make_tree(local, SAMPLE_FILES)
        aws("s3", "sync", str(local), "s3://%s/tree" % aws_bucket)
        again = aws("s3", "sync", str(local), "s3://%s/tree" % aws_bucket).stdout
        assert "upload:" not in again, "an unchanged tree must not be uploaded again:\n" + again
        back = tmp_path / "back"
        aws("s3", "sync", "s3://%s/tree" % aws_bucket, str(back))
        assert tree_digest(back) == tree_digest(local)

    def test_rm_recursive(self, aws, aws_bucket, s3_client):
        for key in ("logs/1", "logs/2", "logs/deep/3", "keep"):
            s3_client.put_object(Bucket=aws_bucket, Key=key, Body=b"x")
        aws("s3", "rm", "--recursive", "s3://%s/logs/" % aws_bucket)
        keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=aws_bucket).get("Contents", [])]
        assert keys == ["keep"]

    def test_s3api_put_head_list(self, aws, aws_bucket, tmp_path):
        body = tmp_path / "body.json"
        body.write_bytes(b'{"hello": "world"}')
        put = json.loads(aws("s3api", "put-object", "--bucket", aws_bucket, "--key",
                             "docs/a b.json", "--body", str(body), "--content-type",
                             "application/json", "--metadata", "owner=alice,team=storage").stdout)
        assert put["ETag"] == '"%s"' % hashlib.md5(body.read_bytes()).hexdigest()
        head = json.loads(aws("s3api", "head-object", "--bucket", aws_bucket, "--key",
                              "docs/a b.json").stdout)
        assert head["ContentLength"] == body.stat().st_size
        assert head["ContentType"] == "application/json"
        assert head["Metadata"] == {"owner": "alice", "team": "storage"}
        listing = json.loads(aws("s3api", "list-objects-v2", "--bucket", aws_bucket,
                                 "--prefix", "docs/").stdout)
        assert [o["Key"] for o in listing["Contents"]] == ["docs/a b.json"]
        missing = aws("s3api", "head-object", "--bucket", aws_bucket, "--key", "nope", check=False)
        assert missing.returncode != 0 and "404" in missing.stderr

    def test_s3api_list_objects_v2_pagination(self, aws, aws_bucket, s3_client):
        keys = ["p/%02d" % i for i in range(12)]
        for key in keys:
            s3_client.put_object(Bucket=aws_bucket, Key=key, Body=b"x")
        listing = json.loads(aws("s3api", "list-objects-v2", "--bucket", aws_bucket,
                                 "--page-size", "5").stdout)
        assert [o["Key"] for o in listing["Contents"]] == keys


# ----------------------------------------------------------------------------------------
# rclone
# ----------------------------------------------------------------------------------------

@pytest.fixture
def rclone(coffer_server, tmp_path):
    binary = shutil.which("rclone")
    if binary is None:
        pytest.skip("rclone is not installed (Debian: apt-get install rclone)")
    config = tmp_path / "rclone.conf"
    config.write_text("")
    env = loopback_only_environment()
    # rclone's AWS SDK refuses a custom CA bundle on its own HTTP transport; it is plain HTTP here.
    env.pop("AWS_CA_BUNDLE", None)
    env.update({
        "RCLONE_CONFIG": str(config),
        "RCLONE_CONFIG_COFFER_TYPE": "s3",
        "RCLONE_CONFIG_COFFER_PROVIDER": "Other",
        "RCLONE_CONFIG_COFFER_ENV_AUTH": "false",
        "RCLONE_CONFIG_COFFER_ACCESS_KEY_ID": ROOT_SECRET_ID,
        "RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY": ROOT_SECRET_KEY,
        "RCLONE_CONFIG_COFFER_ENDPOINT": coffer_server.endpoint,
        "RCLONE_CONFIG_COFFER_REGION": "us-east-1",
        "RCLONE_CONFIG_COFFER_FORCE_PATH_STYLE": "true",
    })

    def invoke(*args, check=True):
        return run_tool([binary, "--retries", "1", "--low-level-retries", "1"] + list(args), env,
                        check=check)
    return invoke


@pytest.fixture
def rclone_bucket(rclone, s3_client):
    name = unique_name("rclone")
    rclone("mkdir", "coffer:%s" % name)
    yield name
    try:
        empty_s3_bucket(s3_client, name)
        s3_client.delete_bucket(Bucket=name)
    except Exception as error:  # noqa: BLE001
        print("cleanup of %s failed: %r" % (name, error))


class TestRclone:
    def test_copy_ls_check_and_back(self, rclone, rclone_bucket, tmp_path):
        local = tmp_path / "local"
        make_tree(local, SAMPLE_FILES)
        rclone("copy", str(local), "coffer:%s/tree" % rclone_bucket)
        listing = rclone("ls", "coffer:%s" % rclone_bucket).stdout
        for name in SAMPLE_FILES:
            assert ("tree/" + name) in listing, "%s missing from rclone ls:\n%s" % (name, listing)
        rclone("check", str(local), "coffer:%s/tree" % rclone_bucket)
        back = tmp_path / "back"
        rclone("copy", "coffer:%s/tree" % rclone_bucket, str(back))
        assert tree_digest(back) == tree_digest(local)

    def test_multipart_upload_and_check(self, rclone, rclone_bucket, tmp_path, s3_client):
        local = tmp_path / "big"
        make_tree(local, {"big.bin": os.urandom(12 * MiB + 5)})
        rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(local),
               "coffer:%s" % rclone_bucket)
        head = s3_client.head_object(Bucket=rclone_bucket, Key="big.bin")
        assert head["ETag"].endswith('-3"'), head["ETag"]
        rclone("check", str(local), "coffer:%s" % rclone_bucket)

    def test_lsd_and_delete(self, rclone, rclone_bucket, s3_client):
        for key in ("x/1", "x/2", "y/3", "z"):
            s3_client.put_object(Bucket=rclone_bucket, Key=key, Body=b"data")
        dirs = rclone("lsd", "coffer:%s" % rclone_bucket).stdout
        assert " x" in dirs and " y" in dirs
        buckets = rclone("lsd", "coffer:").stdout
        assert rclone_bucket in buckets
        rclone("delete", "coffer:%s/x" % rclone_bucket)
        keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=rclone_bucket)["Contents"]]
        assert keys == ["y/3", "z"]

    def test_cat_and_size(self, rclone, rclone_bucket, s3_client):
        s3_client.put_object(Bucket=rclone_bucket, Key="note.txt", Body=b"rclone cat works\n")
        assert rclone("cat", "coffer:%s/note.txt" % rclone_bucket).stdout == "rclone cat works\n"
        size = json.loads(rclone("size", "--json", "coffer:%s" % rclone_bucket).stdout)
        assert size["count"] == 1 and size["bytes"] == len(b"rclone cat works\n")


# ----------------------------------------------------------------------------------------
# s3cmd
# ----------------------------------------------------------------------------------------

@pytest.fixture
def s3cmd(coffer_server, tmp_path):
    binary = find_tool("s3cmd")
    if binary is None:
        pytest.skip("s3cmd is not installed (pip install s3cmd, or apt-get install s3cmd)")
    config = tmp_path / "s3cmd.cfg"
    config.write_text("\n".join([
        "[default]",
        "access_key = %s" % ROOT_SECRET_ID,
        "secret_key = %s" % ROOT_SECRET_KEY,
        "host_base = %s" % coffer_server.address,
        "host_bucket = %s" % coffer_server.address,
        "use_https = False",
        "signature_v2 = False",
        "bucket_location = us-east-1",
        "check_ssl_certificate = False",
        "guess_mime_type = True",
        "",
    ]))
    env = loopback_only_environment()
    env["HOME"] = str(tmp_path)

    def invoke(*args, check=True):
        return run_tool([binary, "-c", str(config), "--host", coffer_server.address,
                         "--host-bucket", coffer_server.address, "--no-ssl",
                         "--region=us-east-1"] + list(args), env, check=check)
    return invoke


@pytest.fixture
def s3cmd_bucket(s3cmd, s3_client):
    name = unique_name("s3cmd")
    s3cmd("mb", "s3://%s" % name)
    yield name
    try:
        empty_s3_bucket(s3_client, name)
        s3_client.delete_bucket(Bucket=name)
    except Exception as error:  # noqa: BLE001
        print("cleanup of %s failed: %r" % (name, error))


class TestS3cmd:
    def test_mb_ls_rb(self, s3cmd, s3_client):
        name = unique_name("s3cmd-mb")
        s3cmd("mb", "s3://%s" % name)
        assert ("s3://%s" % name) in s3cmd("ls").stdout
        s3cmd("rb", "s3://%s" % name)
        assert ("s3://%s" % name) not in s3cmd("ls").stdout

    def test_put_ls_info_get_del(self, s3cmd, s3cmd_bucket, tmp_path):
        source = tmp_path / "file name.txt"
        source.write_bytes(b"s3cmd payload\n")
        s3cmd("put", str(source), "s3://%s/dir/file name.txt" % s3cmd_bucket)
        listing = s3cmd("ls", "s3://%s/dir/" % s3cmd_bucket).stdout
        assert "s3://%s/dir/file name.txt" % s3cmd_bucket in listing
        info = s3cmd("info", "s3://%s/dir/file name.txt" % s3cmd_bucket).stdout
        assert hashlib.md5(source.read_bytes()).hexdigest() in info
        target = tmp_path / "back.txt"
        s3cmd("get", "s3://%s/dir/file name.txt" % s3cmd_bucket, str(target))
        assert target.read_bytes() == source.read_bytes()
        s3cmd("del", "s3://%s/dir/file name.txt" % s3cmd_bucket)
        assert "file name.txt" not in s3cmd("ls", "s3://%s/dir/" % s3cmd_bucket).stdout

    def test_multipart_put(self, s3cmd, s3cmd_bucket, tmp_path, s3_client):
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(12 * MiB + 1))
        s3cmd("put", "--multipart-chunk-size-mb=5", str(source), "s3://%s/big.bin" % s3cmd_bucket)
        head = s3_client.head_object(Bucket=s3cmd_bucket, Key="big.bin")
        assert head["ContentLength"] == source.stat().st_size
        assert head["ETag"].endswith('-3"'), head["ETag"]
        target = tmp_path / "big.back"
        s3cmd("get", "s3://%s/big.bin" % s3cmd_bucket, str(target))
        assert target.read_bytes() == source.read_bytes()

    def test_signature_v2_put_and_get(self, s3cmd, s3cmd_bucket, tmp_path):
        """s3cmd's legacy signing (AWS signature version 2), still common in scripts."""
        source = tmp_path / "v2.txt"
        source.write_bytes(b"signed with v2\n")
        s3cmd("--signature-v2", "put", str(source), "s3://%s/v2/file.txt" % s3cmd_bucket)
        target = tmp_path / "v2.back"
        s3cmd("--signature-v2", "get", "s3://%s/v2/file.txt" % s3cmd_bucket, str(target))
        assert target.read_bytes() == source.read_bytes()
        assert "v2/file.txt" in s3cmd("--signature-v2", "ls", "s3://%s/v2/" % s3cmd_bucket).stdout

    def test_sync_round_trip(self, s3cmd, s3cmd_bucket, tmp_path):
        local = tmp_path / "local"
        files = {name: data for name, data in SAMPLE_FILES.items()}
        make_tree(local, files)
        s3cmd("sync", str(local) + "/", "s3://%s/tree/" % s3cmd_bucket)
        back = tmp_path / "back"
        back.mkdir()
        s3cmd("sync", "s3://%s/tree/" % s3cmd_bucket, str(back) + "/")
        assert tree_digest(back) == tree_digest(local)
