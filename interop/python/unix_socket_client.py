#!/usr/bin/env python3
"""Drives a plugin binary over its unix socket with Python's grpcio (gRPC C-core).

    python3 unix_socket_client.py PLUGIN_EXECUTABLE [PLUGIN_ID]

Starts the plugin the way Grafana does (magic cookie, protocol version 2, a
fresh PLUGIN_UNIX_SOCKET_DIR), reads the go-plugin handshake line from its
stdout and calls, over the announced socket:

* with grpcio's default authority (C-core sends the %-encoded socket path):
  CheckHealth and QueryData. hyper's HTTP/2 server refuses that authority
  and resets the stream; the README's troubleshooting section documents it,
  and this script checks that the behaviour is the documented one;
* with the documented workaround, `grpc.default_authority=localhost`:
  grpc.health.v1.Health/Check, CheckHealth and QueryData, which must succeed;
* then go-plugin's GRPCController/Shutdown, after which the plugin must exit 0.

Needs only grpcio: messages are encoded and decoded by the few lines of
protobuf below, so no generated code or protoc is involved. Exits non-zero,
naming the check, on any failure.
"""

import os
import subprocess
import sys
import tempfile

import grpc

TIMEOUT_S = 10


# --- just enough protobuf --------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def fields(message):
    """Yields (number, wire type, value) for each field of an encoded message."""
    i = 0
    while i < len(message):
        key, i = read_varint(message, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = read_varint(message, i)
        elif wire_type == 2:
            length, i = read_varint(message, i)
            value, i = message[i:i + length], i + length
        elif wire_type == 1:
            value, i = message[i:i + 8], i + 8
        elif wire_type == 5:
            value, i = message[i:i + 4], i + 4
        else:
            raise ValueError(f"unexpected wire type {wire_type}")
        yield number, wire_type, value


def read_varint(data, i):
    shift = value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def plugin_context(plugin_id):
    # pluginv2.PluginContext { orgId: 1, pluginId, dataSourceInstanceSettings { id: 1, uid, name } }
    settings = field_varint(1, 1) + field_bytes(2, b"python") + field_bytes(11, b"python-uid")
    return field_varint(1, 1) + field_bytes(2, plugin_id.encode()) + field_bytes(5, settings)


def check_health_request(plugin_id):
    return field_bytes(1, plugin_context(plugin_id))


def query_data_request(plugin_id):
    # One query, refId "A", JSON "{}", a one-hour time range.
    time_range = field_varint(1, 1_700_000_000_000) + field_varint(2, 1_700_003_600_000)
    query = field_bytes(1, b"A") + field_bytes(4, time_range) + field_bytes(5, b"{}")
    return field_bytes(1, plugin_context(plugin_id)) + field_bytes(3, query)


# --- the checks -------------------------------------------------------------

class Failure(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failure(what)


def call(channel, method, request):
    return channel.unary_unary(method)(request, timeout=TIMEOUT_S)


def expect_reset(channel, method, request):
    """The documented limitation: h2 resets the stream (PROTOCOL_ERROR)."""
    try:
        call(channel, method, request)
    except grpc.RpcError as err:
        expect(
            err.code() == grpc.StatusCode.INTERNAL and "RST_STREAM" in (err.details() or ""),
            f"{method} with the default authority: expected the documented stream reset, "
            f"got {err.code()}: {err.details()}",
        )
        return
    raise Failure(f"{method} with the default authority succeeded: h2 now accepts "
                  "the socket path; update the README's troubleshooting section")


def check_health_status(response):
    status = {number: value for number, _, value in fields(response)}.get(1, 0)
    expect(status in (1, 2), f"CheckHealth answered status {status}, neither OK nor ERROR")


def check_query_data(response):
    responses = {}
    for number, _, entry in fields(response):
        if number == 1:
            entry = {n: v for n, _, v in fields(entry)}
            responses[entry.get(1, b"").decode()] = entry.get(2, b"")
    expect("A" in responses, f"QueryData answered refIds {sorted(responses)}, not A")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    executable = sys.argv[1]
    plugin_id = sys.argv[2] if len(sys.argv) == 3 else "python-test-datasource"

    with tempfile.TemporaryDirectory() as socket_dir:
        env = dict(
            os.environ,
            grafana_plugin_type="datasource",
            PLUGIN_PROTOCOL_VERSIONS="2",
            PLUGIN_UNIX_SOCKET_DIR=socket_dir,
        )
        # The plugin's hclog lines, shown only when a check fails.
        log = tempfile.TemporaryFile(mode="w+")
        plugin = subprocess.Popen(
            [executable], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=log, text=True,
        )
        try:
            run(plugin, plugin_id)
        except BaseException as failure:
            plugin.kill()
            plugin.wait()
            log.seek(0)
            sys.stderr.write(log.read())
            if isinstance(failure, Failure):
                sys.exit(f"FAILED: {failure}")
            raise


def run(plugin, plugin_id):
    # go-plugin's handshake: CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL
    line = plugin.stdout.readline().strip()
    parts = line.split("|")
    expect(len(parts) >= 5 and parts[2] == "unix" and parts[4] == "grpc",
           f"a unix-socket gRPC handshake, got {line!r}")
    target = "unix:" + parts[3]

    health = check_health_request(plugin_id)
    query = query_data_request(plugin_id)

    with grpc.insecure_channel(target) as channel:
        expect_reset(channel, "/pluginv2.Diagnostics/CheckHealth", health)
        expect_reset(channel, "/pluginv2.Data/QueryData", query)
    print("default authority: CheckHealth and QueryData reset, as documented")

    options = [("grpc.default_authority", "localhost")]
    with grpc.insecure_channel(target, options=options) as channel:
        serving = call(channel, "/grpc.health.v1.Health/Check", field_bytes(1, b"plugin"))
        expect(serving == field_varint(1, 1), f"health service plugin: {serving!r}, not SERVING")
        check_health_status(call(channel, "/pluginv2.Diagnostics/CheckHealth", health))
        check_query_data(call(channel, "/pluginv2.Data/QueryData", query))
        print("grpc.default_authority=localhost: Health, CheckHealth and QueryData answered")
        call(channel, "/plugin.GRPCController/Shutdown", b"")

    code = plugin.wait(timeout=TIMEOUT_S)
    expect(code == 0, f"the plugin exited {code} after Shutdown")
    print("Shutdown: the plugin exited 0")


if __name__ == "__main__":
    main()
