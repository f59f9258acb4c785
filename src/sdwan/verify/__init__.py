"""Intent verification: the controller that keeps intents compiled and checked."""
