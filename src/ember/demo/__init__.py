"""`ember demo`: realistic sample traces sent through the real SDK and instrumentors to a running
Ember, against a small fake OpenAI server the demo starts on 127.0.0.1 (command.py runs it,
scenarios.py is the traced application, data.py what it says, openai_server.py the fake LLM)."""
