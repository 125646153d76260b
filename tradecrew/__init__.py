"""tradecrew: a trading desk run by a crew of AI agents."""
