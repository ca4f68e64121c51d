#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into fuzz/corpus/<target>/seed-*.

The seeds come from the unit-test vectors, the protocol reference's examples
(/work/shared/docs/cos-protocol.md §4.3, the AWS SigV4/SigV2 documentation examples) and
requests real clients send. Run once when adding a target; `cargo fuzz cmin` then keeps
what adds coverage.
"""
import os
import random
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")
HOST = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
AK = "AKIDEXAMPLEsecretid0123456789"


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def lines(*parts):
    return "\n".join(parts)


def auth_cos():
    v = {
        "v1": lines(
            f"q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940;1700000300&q-key-time=1699999940;1700000300&q-header-list=host&q-url-param-list=&q-signature=e57f393c69f410548ba42668de87cd3eed8625be",
            "GET", "/exampleobject", "", f"Host: {HOST}"),
        "v2": lines(
            f"q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940;1700003600&q-key-time=1699999940;1700003600&q-header-list=content-md5;content-type;host;x-cos-meta-author&q-url-param-list=partnumber;uploadid&q-signature=0af17ca24867e63f9f27f5d8614cc81e5110af20",
            "PUT", "/dir/中文 file+name.txt",
            "partNumber=1&uploadId=1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361",
            "Content-Type: text/plain", "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==",
            "x-cos-meta-Author: Alice Smith", "X-Unsigned: ignored", f"Host: {HOST}"),
        "v3": lines(
            f"q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940;1700000060&q-key-time=1699999940;1700000060&q-header-list=&q-url-param-list=cors&q-signature=2eb748e79003fb468c0575a586c35dc65a143147",
            "DELETE", "/", "cors"),
        "v4": lines(
            f"q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940;1700010000&q-key-time=1699999940;1700010000&q-header-list=content-length;content-type;host;x-cos-meta-owner;x-cos-security-token&q-url-param-list=&q-signature=d825cc52381869af5f0967231d8e96a92c1def25",
            "PUT", "/photos/2023/cat.jpg", "", "Content-Type: image/jpeg", "x-cos-meta-Owner: Bob",
            "x-cos-security-token: tmp-token/abc==", f"Host: {HOST}", "Content-Length: 5"),
        "v5": lines(
            f"q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940;1700010000&q-key-time=1699999940;1700010000&q-header-list=host;x-cos-security-token&q-url-param-list=delimiter;encoding-type;marker;max-keys;prefix&q-signature=5ae54125e6e89a430a58db2dc46daded8b15a9ab",
            "GET", "/", "prefix=a+b%2F&delimiter=%2F&marker=&max-keys=10&encoding-type=url",
            "x-cos-security-token: tmp-token/abc==", f"Host: {HOST}"),
        "v6": lines(
            f"?q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940%3B1700000120&q-key-time=1699999940%3B1700000120&q-header-list=host&q-url-param-list=response-content-type&q-signature=0e2307170b9a56534d747a16446a72f8c914b1e2",
            "GET", "/a/b c.txt", "response-content-type=text%2Fplain", f"Host: {HOST}:443"),
        "dup": lines(
            "q-sign-algorithm=sha1&q-ak=a&q-ak=b&q-sign-time=1;2&q-key-time=1;2&q-signature=00",
            "GET", "/", "a=1&A=2", "x-cos-acl: private", "X-COS-ACL: public-read"),
        "window": lines("q-sign-algorithm=SHA1&q-ak=ak&q-sign-time=5;1&q-key-time=;&q-signature=x",
                        "HEAD", "", "", "host: [::1]:80"),
    }
    for name, data in v.items():
        write("auth_cos", name, data)


def auth_sigv4():
    get = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    write("auth_sigv4", "get", lines(get, "GET", "/test.txt", "", "Host: examplebucket.s3.amazonaws.com",
                                     "Range: bytes=0-9", f"x-amz-content-sha256: {empty}",
                                     "x-amz-date: 20130524T000000Z"))
    write("auth_sigv4", "put", lines(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        "PUT", "/test$file.text", "", "Host: examplebucket.s3.amazonaws.com",
        "Date: Fri, 24 May 2013 00:00:00 GMT", "x-amz-date: 20130524T000000Z",
        "x-amz-storage-class: REDUCED_REDUNDANCY",
        "x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"))
    write("auth_sigv4", "list", lines(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        "GET", "/", "max-keys=2&prefix=J", "Host: examplebucket.s3.amazonaws.com",
        f"x-amz-content-sha256: {empty}", "x-amz-date: 20130524T000000Z"))
    write("auth_sigv4", "presigned", lines(
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        "GET", "/test.txt", "", "Host: examplebucket.s3.amazonaws.com"))
    write("auth_sigv4", "streaming", lines(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        "PUT", "/examplebucket/chunkObject.txt", "", "Host: s3.amazonaws.com",
        "x-amz-date: 20130524T000000Z", "x-amz-storage-class: REDUCED_REDUNDANCY",
        "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding: aws-chunked", "x-amz-decoded-content-length: 66560",
        "Content-Length: 66824"))
    write("auth_sigv4", "bad", lines("AWS4-HMAC-SHA256 Credential=/x//s3/aws4_request,SignedHeaders=;,Signature=",
                                     "get", "", "X-Amz-Date=1&x-amz-foo", "x-amz-meta-a: b"))


def auth_sigv2():
    write("auth_sigv2", "get", lines("AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
                                     "GET", "/johnsmith/photos/puppy.jpg", "",
                                     "Host: johnsmith.s3.amazonaws.com",
                                     "Date: Tue, 27 Mar 2007 19:36:42 +0000"))
    write("auth_sigv2", "put", lines("AWS AKIAIOSFODNN7EXAMPLE:MyyxeRY7whkBe+bq8fHCL/2kKUg=",
                                     "PUT", "/johnsmith/photos/puppy.jpg", "",
                                     "Content-Type: image/jpeg", "Content-Length: 94328",
                                     "Host: johnsmith.s3.amazonaws.com",
                                     "Date: Tue, 27 Mar 2007 21:15:45 +0000"))
    write("auth_sigv2", "list", lines("AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=",
                                      "GET", "/johnsmith/", "prefix=photos&max-keys=50&marker=puppy",
                                      "User-Agent: Mozilla/5.0", "Host: johnsmith.s3.amazonaws.com",
                                      "Date: Tue, 27 Mar 2007 19:42:41 +0000"))
    write("auth_sigv2", "acl", lines("AWS AKIAIOSFODNN7EXAMPLE:c2WLPFtWHVgbEmeEG93a4cG37dM=",
                                     "GET", "/johnsmith/", "acl", "Host: johnsmith.s3.amazonaws.com",
                                     "Date: Tue, 27 Mar 2007 19:44:46 +0000"))
    write("auth_sigv2", "delete", lines("AWS AKIAIOSFODNN7EXAMPLE:lx3byBScXR6KzyMaifNkardMwNk=",
                                        "DELETE", "/johnsmith/photos/puppy.jpg", "",
                                        "User-Agent: dotnet", "Host: s3.amazonaws.com",
                                        "Date: Tue, 27 Mar 2007 21:20:27 +0000",
                                        "x-amz-date: Tue, 27 Mar 2007 21:20:26 +0000"))
    write("auth_sigv2", "upload", lines("AWS AKIAIOSFODNN7EXAMPLE:ilyl83RwaSoYIEdixDQcA4OnAnc=",
                                        "PUT", "/static.johnsmith.net/db-backup.dat.gz", "",
                                        "User-Agent: curl/7.15.5", "Host: static.johnsmith.net:8080",
                                        "Date: Tue, 27 Mar 2007 21:06:08 +0000",
                                        "x-amz-acl: public-read", "content-type: application/x-download",
                                        "Content-MD5: 4gJE4saaMU4BqNR0kLY+lw==",
                                        "X-Amz-Meta-ReviewedBy: joe@johnsmith.net",
                                        "X-Amz-Meta-ReviewedBy: jane@johnsmith.net",
                                        "X-Amz-Meta-FileChecksum: 0x02661779",
                                        "X-Amz-Meta-ChecksumAlgorithm: crc32",
                                        "Content-Disposition: attachment; filename=database.dat",
                                        "Content-Encoding: gzip", "Content-Length: 5913339"))
    write("auth_sigv2", "presigned", lines("?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
                                           "GET", "/johnsmith/photos/puppy.jpg", "response-content-type=text/plain&uploads&x-amz-security-token=t",
                                           "Host: johnsmith.s3.amazonaws.com"))


def aws_chunked():
    sig = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
    signed = (b"400;chunk-signature=" + sig.encode() + b"\r\n" + b"a" * 1024 + b"\r\n"
              + b"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
    write("aws_chunked", "signed", b"\x00\x10" + signed)
    write("aws_chunked", "unsigned-trailer", b"\x01\x04" + b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n")
    write("aws_chunked", "signed-trailer", b"\x02\x08" + b"3;chunk-signature=" + b"0" * 64 + b"\r\nabc\r\n0;chunk-signature=" + b"1" * 64 + b"\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" + b"2" * 64 + b"\r\n\r\n")
    write("aws_chunked", "data", b"\x05\x03hello, aws-chunked world")
    write("aws_chunked", "bad", b"\x07\x01" + b"fffffffffffffffff;chunk-signature=\r\n")


XML = {
    "delete": '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>dir/b.txt</Key><VersionId>null</VersionId></Object></Delete>',
    "complete": '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"3858f62230ac3c915f300c664312c11f"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;x&quot;</ETag></Part></CompleteMultipartUpload>',
    "create": '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>ap-guangzhou</LocationConstraint></CreateBucketConfiguration>',
    "create-cos": '<CreateBucketConfiguration><BucketAZConfig>MAZ</BucketAZConfig></CreateBucketConfiguration>',
    "acl": '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>1</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>',
    "mixed": '<a b="1&#9;2" c=\'&lt;\'>text<![CDATA[<raw>]]>&#x1F600;<!-- c --><?pi x?><d/>\n<e>&#1;</e></a>',
    "doctype": '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    "deep": "<a>" * 40 + "</a>" * 40,
}


def xml():
    for name, data in XML.items():
        write("xml", name, data)
        write("xml_bodies", name, data)
    write("xml_bodies", "account", '{"secret_id":"AKIDnew","secret_key":"k","appid":"1250000009","uin":"100000000009","admin":false}')
    write("xml_bodies", "account-bad", '{"secret_id":"","secret_key":1,"appid":"x"}')


def copy_source():
    for i, v in enumerate([
        "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/dir/%E4%B8%AD%20a.txt",
        "https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/a.txt?versionId=MTg0NDUx",
        "/examplebucket/a%2Bb.txt?versionId=null",
        "examplebucket/dir/",
        "my.bucket.s3.local/key",
        "/b/k?versionId=1&versionId=2",
        "http:///x",
        "bucket",
    ]):
        write("copy_source", str(i), v)


def range_():
    for i, v in enumerate(["bytes=0-499", "bytes=500-", "bytes=-500", " bytes = 1 - 2 ", "bytes=0-0,5-6",
                           "bytes=18446744073709551615-", "bytes=5-4", "items=0-1", "bytes=-0"]):
        write("range", str(i), v)


def query():
    for i, v in enumerate([
        "prefix=a+b%2F&delimiter=%2F&marker=&max-keys=10&encoding-type=url",
        "uploads&x-id=CreateMultipartUpload",
        "partNumber=1&uploadId=1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361",
        "response-content-type=text%2Fplain&q-sign-time=1%3B2",
        "a=%zz&b=%4&%=%25&&=&c",
        "X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x",
        "%E4%B8%AD=%FF%FE",
        "/dir/%E4%B8%AD%20a%2Bb.txt",
    ]):
        write("query", str(i), v)


def time_():
    for i, v in enumerate(["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994", "Wed, 28 Oct 2014 20:30:00 GMT",
                           "Tue, 27 Mar 2007 19:36:42 +0000", "20130524T000000Z", "20130524T235960Z",
                           "2030-04-24T00:00:00+08:00", "2017-08-08T09:43:35.000Z", "1699999940;1700000300",
                           "99999-12-31T00:00:00Z", "Fri, 31 Dec 9999 23:59:59 GMT"]):
        write("time", str(i), v)


def names():
    for i, v in enumerate([
        "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com\n/dir/%E4%B8%AD%20a%2Bb.txt",
        "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com:9000\n/",
        "b-1.cos-internal.ap-beijing.tencentcos.cn\n/k/",
        "service.cos.myqcloud.com\n/",
        "cos.ap-guangzhou.myqcloud.com\n/",
        "127.0.0.1:9000\n/bucket/a//b",
        "[::1]:9000\n/bucket/k",
        "my.bucket.s3.local:9000\n/k",
        "s3.local\n/b/k",
        "localhost\n/b/a%00b",
        "examplebucket-1250000000",
        "STANDARD_ia",
        "10000",
        "192.168.1.1",
    ]):
        write("names", str(i), v)


def pipeline():
    pub = "public-1250000000"
    reqs = {
        "get": f"GET /{pub}/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "get-virtual": f"GET /dir/b.txt?response-content-type=x HTTP/1.1\r\nHost: {pub}.cos.ap-guangzhou.myqcloud.com\r\nRange: bytes=0-3\r\n\r\n",
        "head": f"HEAD /{pub}/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /{pub}/big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=-10\r\nIf-None-Match: *\r\n\r\n",
        "list": f"GET /{pub}?prefix=dir%2F&delimiter=%2F&max-keys=1&encoding-type=url HTTP/1.1\r\nHost: localhost\r\n\r\nGET /{pub}?list-type=2&start-after=a HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "put": f"PUT /{pub}/new%20file.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nx-amz-meta-a: b\r\nContent-Type: text/plain\r\n\r\nhello",
        "put-chunked": f"PUT /{pub}/c.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "copy": f"PUT /{pub}/copy.txt HTTP/1.1\r\nHost: localhost\r\nx-amz-copy-source: /{pub}/a.txt\r\nContent-Length: 0\r\n\r\n",
        "multipart": f"POST /{pub}/m?uploads HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\nPUT /{pub}/mp.bin?partNumber=2&uploadId=@UPLOAD@ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabcGET /{pub}/mp.bin?uploadId=@UPLOAD@ HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "complete": f"POST /{pub}/mp.bin?uploadId=@UPLOAD@ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 117\r\n\r\n<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>          ",
        "delete": f"POST /{pub}?delete HTTP/1.1\r\nHost: localhost\r\nContent-Length: 72\r\n\r\n<Delete><Object><Key>a.txt</Key></Object><Object><Key></Key></Object></Delete>",
        "create-bucket": "PUT /newbucket-1250000000 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
        "cos-anon": f"GET /a.txt HTTP/1.1\r\nHost: {pub}.cos.ap-guangzhou.myqcloud.com\r\nx-cos-meta-a: b\r\n\r\nDELETE /a.txt HTTP/1.1\r\nHost: {pub}.cos.ap-guangzhou.myqcloud.com\r\n\r\n",
        "signed-stale": f"GET /exampleobject HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: q-sign-algorithm=sha1&q-ak={AK}&q-sign-time=1699999940;1700000300&q-key-time=1699999940;1700000300&q-header-list=host&q-url-param-list=&q-signature=e57f393c69f410548ba42668de87cd3eed8625be\r\n\r\n",
        "sigv4-stale": "GET /test.txt HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41\r\nRange: bytes=0-9\r\nx-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\nx-amz-date: 20130524T000000Z\r\n\r\n",
        "absolute": f"GET http://127.0.0.1:9000/{pub}/a.txt HTTP/1.1\r\nHost: {pub}.cos.ap-guangzhou.myqcloud.com\r\n\r\n",
        "bad-framing": "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "health": "GET /-/health HTTP/1.1\r\nHost: x\r\n\r\n",
        "admin": "GET /-/admin/users HTTP/1.1\r\nHost: x\r\n\r\n",
        "service": "GET / HTTP/1.0\r\n\r\n",
        "stray": "\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    }
    for name, data in reqs.items():
        write("pipeline", name, data)


def pipeline_signed():
    rng = random.Random(10)
    for i in range(24):
        n = rng.choice([16, 64, 256, 1024])
        write("pipeline_signed", str(i), bytes(rng.getrandbits(8) for _ in range(n)))


def op_parse():
    # Byte 0 picks the operation (the table has 26), byte 1 the dialect (even: COS, odd: S3).
    common = lines(
        "?prefix=a/", "?delimiter=/", "?marker=a", "?max-keys=10", "?encoding-type=url",
        "?list-type=2", "?continuation-token=YQ", "?start-after=a", "?fetch-owner=true",
        "?uploadId=u1", "?partNumber=2", "?part-number-marker=1", "?max-parts=5",
        "?max-uploads=3", "?key-marker=k", "?upload-id-marker=u", "?versionId=null",
        "?max-buckets=2", "?create-time=1700000000", "?range=gt",
        "?response-content-type=text/plain",
        "Content-Type: text/plain", "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==",
        "Range: bytes=0-9", "If-None-Match: *", "x-cos-acl: public-read",
        "x-amz-acl: private", "x-cos-meta-a: 1", "x-amz-meta-a: 1",
        "x-cos-storage-class: STANDARD_IA", "x-amz-checksum-algorithm: CRC32",
        "x-amz-checksum-mode: ENABLED", "x-amz-object-attributes: ETag,ObjectSize",
        "x-amz-copy-source-range: bytes=0-4", "x-cos-metadata-directive: Replaced",
        "x-cos-traffic-limit: 819200")
    bodies = {
        "delete": "<Delete><Object><Key>a</Key></Object></Delete>",
        "complete": "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "config": "<CreateBucketConfiguration/>",
        "account": '{"secret_id":"AK","secret_key":"s","appid":"1250000000","uin":"1"}',
    }
    for op in range(26):
        for dialect in (0, 1):
            write("op_parse", f"{op}-{dialect}", bytes([op, dialect]))
            write("op_parse", f"{op}-{dialect}-common", bytes([op, dialect]) + common.encode())
        for name, body in bodies.items():
            write("op_parse", f"{op}-{name}", bytes([op, 1]) + (common + "\n\n" + body).encode())


def main():
    op_parse()
    auth_cos()
    auth_sigv4()
    auth_sigv2()
    aws_chunked()
    xml()
    copy_source()
    range_()
    query()
    time_()
    names()
    pipeline()
    pipeline_signed()


if __name__ == "__main__":
    sys.exit(main())
