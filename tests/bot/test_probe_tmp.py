from tests.bot.conftest import mention_event
import json

def test_probe(server):
    r = server.command("calculate 2+3")
    print(r.status_code, repr(r.text), r.headers)
    server.settle()
    for c in server.fake.calls():
        print(c.method, json.dumps(c.params)[:400])
    for m in server.fake.messages():
        print(m.channel, m.ts, m.thread_ts, repr(m.text), m.edited)
    server.event(mention_event("add a todo to buy milk"))
    server.settle()
    for m in server.fake.messages():
        print(m.channel, m.ts, m.thread_ts, repr(m.text), m.edited)
    print(server.runs())
