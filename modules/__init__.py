"""MindSpore Cells of MAMO: feature loading, embeddings, recommender, and the memories."""
