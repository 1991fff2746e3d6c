"""The LLM provider layer: an OpenAI-compatible async client, rate limiting, prompts, a simulated API."""
