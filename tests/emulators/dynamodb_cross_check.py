"""Reads and writes items of cloudkitd's `dynamodb` provider with boto3
(Debian's python3-boto3), in the provider's layout, the same commands as
dynamodb-cross-check.mjs, so tests can check the provider against a second
client nobody here wrote.

Usage (EMULATOR_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY set):
  /usr/bin/python3 dynamodb_cross_check.py get TABLE API_TABLE KEY
  /usr/bin/python3 dynamodb_cross_check.py put TABLE API_TABLE KEY VALUE_FILE ETAG [EXPIRES_MS]
  /usr/bin/python3 dynamodb_cross_check.py query TABLE API_TABLE PREFIX
"""
import base64
import json
import os
import sys

import boto3


def main(argv):
    dynamo = boto3.client("dynamodb", endpoint_url=os.environ["EMULATOR_ENDPOINT"], region_name="us-east-1")
    command, table, api_table, key, *rest = argv
    if command == "get":
        got = dynamo.get_item(TableName=table, Key={"pk": {"S": api_table}, "sk": {"S": key}}, ConsistentRead=True)
        item = got.get("Item")
        if item is None:
            print(json.dumps({"found": False}))
            return
        value = item.get("v", {}).get("B", b"")
        print(json.dumps({
            "found": True, "value": base64.b64encode(value).decode(), "size": len(value),
            "etag": item.get("etag", {}).get("S"),
            "expiresAtMs": int(item["exp_ms"]["N"]) if "exp_ms" in item else 0,
            "attributes": {name: next(iter(typed)) for name, typed in item.items()},
        }))
    elif command == "put":
        value_file, etag, *expires_ms = rest
        with open(value_file, "rb") as value:
            value_bytes = value.read()
        item = {"pk": {"S": api_table}, "sk": {"S": key}, "v": {"B": value_bytes}, "etag": {"S": etag}}
        if expires_ms:
            item["exp_ms"] = {"N": expires_ms[0]}
            item["exp"] = {"N": str(-(-int(expires_ms[0]) // 1000))}
        dynamo.put_item(TableName=table, Item=item)
        print(json.dumps({}))
    elif command == "query":
        # DynamoDB refuses an empty string in a key condition.
        condition = "pk = :table"
        values = {":table": {"S": api_table}}
        if key:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": key}
        keys = []
        for page in dynamo.get_paginator("query").paginate(
                TableName=table, ConsistentRead=True, KeyConditionExpression=condition,
                ExpressionAttributeValues=values):
            keys.extend(item["sk"]["S"] for item in page.get("Items", []))
        print(json.dumps({"keys": keys}))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # the SDK's error, on one line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
