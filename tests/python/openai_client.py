"""Drives shopdesk's /v1 endpoint with the official OpenAI Python client: a client we did
not write. Usage: openai_client.py <base_url including /v1>; the key is OPENAI_API_KEY."""
import sys

import openai

base = sys.argv[1]
client = openai.OpenAI(base_url=base)

models = client.models.list()
model = models.data[0].id
print("models:", [m.id for m in models.data])

reply = client.chat.completions.create(
    model=model,
    messages=[
        {"role": "system", "content": "You repeat the user's code word."},
        {"role": "user", "content": "The code word is rocket. Repeat it."},
    ],
    max_tokens=16,
    temperature=0,
)
text = reply.choices[0].message.content
assert "rocket" in text.lower(), text
assert reply.usage.completion_tokens > 0
print("plain ok:", repr(text))

pieces = []
for chunk in client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "The code word is avocado. Repeat it."}],
    max_tokens=16,
    temperature=0,
    stream=True,
):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
assert len(pieces) >= 2, pieces
print("stream ok:", repr("".join(pieces)), len(pieces), "chunks")

try:
    openai.OpenAI(base_url=base, api_key="wrong").models.list()
    raise SystemExit("a wrong key was accepted")
except openai.AuthenticationError:
    pass
try:
    client.chat.completions.create(model=model, messages=[])
    raise SystemExit("an empty message list was accepted")
except openai.BadRequestError as e:
    assert "messages" in str(e), e
print("errors ok")
