"""Fuzzing harness for the input paths (media probe/decode, MIDI import, project load, prompt
parsing): see `robin_studio.fuzz.harness`. Run with `python -m robin_studio.fuzz`."""
