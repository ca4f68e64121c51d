"""The official Python SDK's upload_file / download_file against a server: the comparison
column of docs/performance.md ("SDK transfers").

  COFFER_ADDRESS=127.0.0.1:9000 COS_SECRET_ID=… COS_SECRET_KEY=… COS_BUCKET=bench-1250000000 \
    tests/acceptance/.venv/bin/python tools/python_transfer_bench.py <file> [part MiB] [threads] [runs]

Without part size and threads the SDK's defaults are used (upload PartSize=1, download
PartSize=20, MAXThread=5). Prints the median MiB/s of each and the peak RSS (ru_maxrss).
"""
import os
import resource
import statistics
import sys
import time

from qcloud_cos import CosConfig, CosS3Client


def main():
    path = sys.argv[1]
    part = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    threads = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    ip, port = os.environ["COFFER_ADDRESS"].rsplit(":", 1)
    config = CosConfig(Region="ap-guangzhou", SecretId=os.environ["COS_SECRET_ID"],
                       SecretKey=os.environ["COS_SECRET_KEY"], Scheme="http", IP=ip, Port=int(port))
    client = CosS3Client(config)
    bucket = os.environ["COS_BUCKET"]
    if not client.bucket_exists(bucket):
        client.create_bucket(Bucket=bucket)
    size = os.path.getsize(path) / (1024 * 1024)
    ups, downs = [], []
    for run in range(runs):
        key = "pybench/%d" % run
        kwargs = {}
        if part:
            kwargs["PartSize"] = part
        if threads:
            kwargs["MAXThread"] = threads
        start = time.time()
        client.upload_file(Bucket=bucket, Key=key, LocalFilePath=path, **kwargs)
        ups.append(size / (time.time() - start))
        start = time.time()
        client.download_file(Bucket=bucket, Key=key, DestFilePath=path + ".pyback", **kwargs)
        downs.append(size / (time.time() - start))
        client.delete_object(Bucket=bucket, Key=key)
        os.remove(path + ".pyback")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print("python upload_file %.0f MiB/s  download_file %.0f MiB/s  (median of %d; part %s threads %s)  peak RSS %d MiB"
          % (statistics.median(ups), statistics.median(downs), runs,
             "%s MiB" % part if part else "default", threads or "default", rss))


if __name__ == "__main__":
    main()
