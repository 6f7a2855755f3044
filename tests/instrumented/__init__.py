"""Real instrumentation libraries driving fake LLM servers, exporting to a real `ember serve`."""
