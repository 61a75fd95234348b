#!/usr/bin/python3
"""A small cloudkitd client in Python, written from docs/protocol.md and proto/ alone.

It generates the protobuf modules with `protoc --python_out` into a temporary
directory at start-up (nothing generated is committed), then runs a short demo
against a running daemon: status, a bucket, a small object, a streamed 3 MiB
object under credit flow control, key-value items, a queue's message sent,
received and acked, and a NOT_FOUND error.
It exits nonzero if anything does not behave as documented.

A daemon with client keys (docs/protocol.md, "Authentication") needs CURVE:
--key names this client's key pair file (`cloudkit keygen`), --server-key the
daemon's public key (a key file or its 40 characters of Z85).

Needs Debian's python3-zmq and python3-protobuf, and protoc:
    /usr/bin/python3 examples/python/cloudkit_client.py [--endpoint tcp://127.0.0.1:7420]
        [--key client.key --server-key server.key.pub]
"""
import argparse
import hashlib
import importlib
import io
import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto"
CHUNK = 256 * 1024  # bytes per DATA frame; the daemon accepts up to 1 MiB
WINDOW = 8          # DATA frames a download lets the daemon send ahead


def load_protos(out_dir):
    """Compiles proto/cloudkit/v1/*.proto into out_dir and imports the modules."""
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in (PROTO_DIR / "cloudkit" / "v1").glob("*.proto"))
    subprocess.run(["protoc", f"-I{PROTO_DIR}", f"--python_out={out_dir}", *protos], check=True)
    sys.path.insert(0, out_dir)
    names = ["envelope", "status", "object_storage", "key_value", "queue", "runtime"]
    return {name: importlib.import_module(f"cloudkit.v1.{name}_pb2") for name in names}


class CloudKitError(Exception):
    """A non-OK status from the daemon (or a timeout), with the protocol's code name."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Client:
    """One DEALER socket; one call at a time (a real client would match many by request_id)."""

    def __init__(self, pb, endpoint, binding="default", timeout_ms=10000, key_file=None, server_key=None):
        self.pb = pb
        self.endpoint = endpoint
        self.binding = binding
        self.timeout_ms = timeout_ms
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        if key_file:
            # CURVE: the key file is ZeroMQ's certificate format, so pyzmq reads it as is.
            self.socket.curve_publickey, self.socket.curve_secretkey = zmq.auth.load_certificate(key_file)
            self.socket.curve_serverkey = read_public_key(server_key)
        # A daemon that refuses the connection's key (or wants one) says so in
        # the handshake, not in a reply: watch for that rather than time out.
        self.handshakes = self.socket.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL |
            zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        self.poller = zmq.Poller()
        self.poller.register(self.socket, zmq.POLLIN)
        self.poller.register(self.handshakes, zmq.POLLIN)
        self.socket.connect(endpoint)
        self.request_ids = itertools.count(1)

    def close(self):
        self.socket.disable_monitor()
        self.handshakes.close()
        self.socket.close()

    # ---- frames ---------------------------------------------------------------
    def _send(self, request_id, kind, body=b"", **fields):
        envelope = self.pb["envelope"].RequestEnvelope(request_id=request_id, kind=kind, **fields)
        self.socket.send_multipart([envelope.SerializeToString(), body])

    def _receive(self, request_id):
        """The next frame of call `request_id`: (ResponseEnvelope, body). Raises on a non-OK status."""
        while True:
            ready = dict(self.poller.poll(self.timeout_ms + 1000))
            if self.handshakes in ready:
                event = recv_monitor_message(self.handshakes)["event"]
                if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                    raise CloudKitError("UNAUTHENTICATED", f"cloudkitd at {self.endpoint} refused this client's key")
                raise CloudKitError("UNAUTHENTICATED", f"no secure session with cloudkitd at {self.endpoint}: it "
                                                       "wants a client key (--key), or this one is not its kind")
            if self.socket not in ready:
                raise CloudKitError("DEADLINE_EXCEEDED", f"no reply from cloudkitd at {self.endpoint} (is it running?)")
            frames = self.socket.recv_multipart()
            if len(frames) != 2:
                raise CloudKitError("INTERNAL", f"expected 2 frames, got {len(frames)}")
            envelope = self.pb["envelope"].ResponseEnvelope.FromString(frames[0])
            if envelope.request_id != request_id:
                continue  # a late frame of an earlier call
            if envelope.status.code != self.pb["status"].OK:
                code = self.pb["status"].StatusCode.Name(envelope.status.code)
                raise CloudKitError(code, envelope.status.message)
            return envelope, frames[1]

    def _start(self, method, request, credits=0):
        request_id = next(self.request_ids)
        self._send(request_id, self.pb["envelope"].REQUEST, request.SerializeToString(), method=method,
                   binding=self.binding, timeout_ms=self.timeout_ms, credits=credits)
        return request_id

    def call(self, method, request, response_type):
        """A unary call: one REQUEST, one RESPONSE."""
        request_id = self._start(method, request)
        _, body = self._receive(request_id)
        return response_type.FromString(body)

    # ---- streamed object bodies ------------------------------------------------
    def put_object(self, bucket, key, reader, content_type=""):
        """Uploads everything `reader` yields: first chunk inline, the rest as DATA under CREDIT."""
        os_pb, env_pb = self.pb["object_storage"], self.pb["envelope"]
        chunk = reader.read(CHUNK)
        following = reader.read(CHUNK)
        request = os_pb.PutObjectRequest(bucket=bucket, key=key, content_type=content_type, data=chunk,
                                         more_data=bool(following))
        request_id = self._start("cloudkit.v1.ObjectStorage/PutObject", request)
        credits, frames_sent = 0, 0
        while following:
            chunk, following = following, reader.read(CHUNK)
            while credits == 0:  # never send more DATA frames than granted
                envelope, body = self._receive(request_id)
                if envelope.kind == env_pb.CREDIT:
                    credits += envelope.credits
                elif envelope.kind == env_pb.RESPONSE:
                    raise CloudKitError("INTERNAL", "response before the upload ended")
            self._send(request_id, env_pb.DATA, chunk, end_of_stream=not following)
            credits -= 1
            frames_sent += 1
        while True:
            envelope, body = self._receive(request_id)
            if envelope.kind == env_pb.RESPONSE:
                return os_pb.PutObjectResponse.FromString(body), frames_sent

    def get_object(self, bucket, key, writer):
        """Downloads into `writer`, granting one credit back per chunk consumed."""
        os_pb, env_pb = self.pb["object_storage"], self.pb["envelope"]
        request = os_pb.GetObjectRequest(bucket=bucket, key=key)
        request_id = self._start("cloudkit.v1.ObjectStorage/GetObject", request, credits=WINDOW)
        _, body = self._receive(request_id)
        response = os_pb.GetObjectResponse.FromString(body)
        writer.write(response.data)
        frames, more = 0, response.more_data
        while more:
            envelope, chunk = self._receive(request_id)  # a failed DATA frame raises here
            if envelope.kind != env_pb.DATA:
                continue
            writer.write(chunk)
            frames += 1
            more = not envelope.end_of_stream
            if more:
                self._send(request_id, env_pb.CREDIT, credits=1)
        return response, frames


def demo(pb, client):
    os_pb, kv_pb, rt_pb = pb["object_storage"], pb["key_value"], pb["runtime"]
    storage = "cloudkit.v1.ObjectStorage/"

    status = client.call("cloudkit.v1.Runtime/Status", rt_pb.StatusRequest(), rt_pb.StatusResponse)
    print(f"status: cloudkitd {status.version}, bindings {[b.name for b in status.bindings]}")

    bucket = f"python-example-{os.getpid()}"
    client.call(storage + "CreateBucket", os_pb.CreateBucketRequest(bucket=bucket), os_pb.CreateBucketResponse)
    print(f"created bucket {bucket}")

    small = b"hello from python\n"
    put, frames = client.put_object(bucket, "small.txt", io.BytesIO(small), content_type="text/plain")
    check(frames == 0, "a small object goes inline in one REQUEST")
    got = io.BytesIO()
    head, _ = client.get_object(bucket, "small.txt", got)
    check(got.getvalue() == small and head.object.etag == put.object.etag, "small object round trip")
    print(f"small object: {len(small)} bytes, etag {put.object.etag}")

    big = os.urandom(3 * 1024 * 1024 + 12345)
    put, sent = client.put_object(bucket, "big.bin", io.BytesIO(big))
    check(put.object.size == len(big), f"uploaded size {put.object.size} == {len(big)}")
    digest = hashlib.sha256()

    class Hasher:  # a sink that keeps nothing: constant memory for any size
        size = 0

        def write(self, data):
            digest.update(data)
            Hasher.size += len(data)

    head, received = client.get_object(bucket, "big.bin", Hasher())
    check(sent > 1 and received > 1, f"streamed in chunks ({sent} DATA frames up, {received} down)")
    check(Hasher.size == len(big) and digest.digest() == hashlib.sha256(big).digest(), "big object round trip")
    print(f"big object: {len(big)} bytes, {sent} DATA frames up, {received} down, sha256 matches")

    kv_put = client.call("cloudkit.v1.KeyValue/Put", kv_pb.PutRequest(table="settings", key="theme", value=b"dark"),
                         kv_pb.PutResponse)
    kv_got = client.call("cloudkit.v1.KeyValue/Get", kv_pb.GetRequest(table="settings", key="theme"),
                         kv_pb.GetResponse)
    check(kv_got.item.value == b"dark" and kv_got.item.etag == kv_put.etag, "key-value round trip")
    print(f"kv: settings/theme = {kv_got.item.value.decode()}, etag {kv_got.item.etag}")

    q_pb, queues = pb["queue"], "cloudkit.v1.Queue/"
    queue = f"python-example-{os.getpid()}"
    client.call(queues + "CreateQueue", q_pb.CreateQueueRequest(queue=queue), q_pb.CreateQueueResponse)
    sent = client.call(queues + "Send", q_pb.SendRequest(queue=queue, body=b"resize photo 7", attributes={"size": "large"}),
                       q_pb.SendResponse)
    # A long poll: answered as soon as a message is there (here at once), else when wait_ms ends.
    got = client.call(queues + "Receive", q_pb.ReceiveRequest(queue=queue, max_messages=10, wait_ms=2000),
                      q_pb.ReceiveResponse)
    check(len(got.messages) == 1 and got.messages[0].body == b"resize photo 7"
          and got.messages[0].message_id == sent.message_id and got.messages[0].attributes["size"] == "large",
          "queue round trip")
    client.call(queues + "Ack", q_pb.AckRequest(queue=queue, receipt_handle=got.messages[0].receipt_handle),
                q_pb.AckResponse)
    depth = client.call(queues + "Depth", q_pb.DepthRequest(queue=queue), q_pb.DepthResponse)
    check(depth.visible == 0 and depth.in_flight == 0, "an acked message is gone")
    client.call(queues + "DeleteQueue", q_pb.DeleteQueueRequest(queue=queue), q_pb.DeleteQueueResponse)
    print(f"queue: message {sent.message_id} sent, received (receive count {got.messages[0].receive_count}) and acked")

    try:
        client.call(storage + "HeadObject", os_pb.HeadObjectRequest(bucket=bucket, key="missing.txt"),
                    os_pb.HeadObjectResponse)
        check(False, "a missing object is NOT_FOUND")
    except CloudKitError as error:
        check(error.code == "NOT_FOUND", f"missing object: got {error.code}")
        print(f"error as expected: {error.code}: {error.message}")

    for key in ("small.txt", "big.bin"):
        client.call(storage + "DeleteObject", os_pb.DeleteObjectRequest(bucket=bucket, key=key),
                    os_pb.DeleteObjectResponse)
    client.call(storage + "DeleteBucket", os_pb.DeleteBucketRequest(bucket=bucket), os_pb.DeleteBucketResponse)
    print("cleaned up")


def read_public_key(z85_or_path):
    """A public key given as its 40 characters of Z85 or as a key file naming it."""
    if len(z85_or_path) == 40 and not os.path.exists(z85_or_path):
        return z85_or_path.encode()
    public_key, _ = zmq.auth.load_certificate(z85_or_path)
    return public_key


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("CLOUDKIT_ENDPOINT", "tcp://127.0.0.1:7420"))
    parser.add_argument("--binding", default="default")
    parser.add_argument("--key", help="this client's CURVE key pair file (cloudkit keygen)")
    parser.add_argument("--server-key", help="the daemon's CURVE public key: a key file or 40 characters of Z85")
    args = parser.parse_args()
    if bool(args.key) != bool(args.server_key):
        parser.error("--key and --server-key go together")
    with tempfile.TemporaryDirectory(prefix="cloudkit-python-") as generated:
        pb = load_protos(generated)
        client = Client(pb, args.endpoint, args.binding, key_file=args.key, server_key=args.server_key)
        try:
            demo(pb, client)
        except (CloudKitError, AssertionError) as error:
            print(f"cloudkit_client.py: FAILED: {error}", file=sys.stderr)
            return 1
        finally:
            client.close()
    print("all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
