"""Fine-tuning: training data, LoRA training and turning the adapter into what Ollama and llama.cpp load.

Nothing here imports torch at module level: the trainer is an optional extra.
"""
