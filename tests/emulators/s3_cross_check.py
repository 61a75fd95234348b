"""Reads and writes objects in an S3-compatible service with boto3 (Debian's
python3-boto3), the same commands as s3-cross-check.mjs, so tests can check
the `s3` provider against a second client nobody here wrote.

Usage (EMULATOR_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY set):
  /usr/bin/python3 s3_cross_check.py get BUCKET KEY
  /usr/bin/python3 s3_cross_check.py put BUCKET KEY FILE TYPE [NAME=VALUE ...]
  /usr/bin/python3 s3_cross_check.py list BUCKET PREFIX
"""
import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config


def main(argv):
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["EMULATOR_ENDPOINT"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    command, bucket, key, *rest = argv
    if command == "get":
        got = s3.get_object(Bucket=bucket, Key=key)
        body = got["Body"].read()
        print(json.dumps({"sha256": hashlib.sha256(body).hexdigest(), "size": len(body),
                          "contentType": got.get("ContentType"), "metadata": got.get("Metadata", {}),
                          "etag": got.get("ETag")}))
    elif command == "put":
        path, content_type, *pairs = rest
        metadata = dict(pair.split("=", 1) for pair in pairs)
        with open(path, "rb") as body:
            put = s3.put_object(Bucket=bucket, Key=key, Body=body.read(), ContentType=content_type,
                                Metadata=metadata)
        print(json.dumps({"etag": put["ETag"]}))
    elif command == "list":
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)
        print(json.dumps({"keys": [o["Key"] for o in listed.get("Contents", [])]}))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # the SDK's error, on one line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
