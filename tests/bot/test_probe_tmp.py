from tests.bot.conftest import mention_event, message_event, new_ts
import json, logging

def test_probe(server, caplog):
    server.fake.fail("chat.postMessage", http_status=500, times=20)
    r = server.command("calculate 2+3")
    server.settle()
    for c in server.fake.calls():
        print(c.method, c.failed, json.dumps(c.params)[:300])
    print(server.fake.ephemerals())
    for rec in caplog.records: print(rec.name, rec.levelname, rec.getMessage()[:200], rec.exc_info is not None)

def test_dm(server):
    server.event(message_event("calculate 2+3", channel="D111", channel_type="im"))
    server.settle()
    server.event(message_event("add 10 to that", channel="D111", channel_type="im"))
    server.settle()
    for c in server.fake.calls():
        print(c.method, c.failed, json.dumps(c.params)[:600])
    for m in server.fake.messages():
        print(m.channel, m.ts, m.thread_ts, repr(m.text), m.streamed)
