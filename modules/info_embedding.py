"""User and item embedding networks: loaded features -> ``embedding_dim`` vectors."""

from mindspore import nn

from modules.activations import activation_func


class _EmbeddingMLP(nn.Cell):
    """``n_layer - 1`` hidden layers halving the width (bias starting at 0), then a final
    layer to ``embedding_dim``; every layer is followed by the activation."""

    def __init__(self, n_layer, in_dim, embedding_dim, activation='sigmoid'):
        super().__init__()
        self.input_size = in_dim
        fcs = []
        last_size = in_dim
        hid_dim = int(in_dim / 2)
        for _ in range(n_layer - 1):
            fcs += [nn.Dense(last_size, hid_dim, bias_init='zeros'), activation_func(activation)]
            last_size = hid_dim
        self.fc = nn.SequentialCell(fcs)
        self.final_layer = nn.SequentialCell([nn.Dense(last_size, embedding_dim),
                                              activation_func(activation)])

    def construct(self, x):
        return self.final_layer(self.fc(x))


class ItemEmbedding(_EmbeddingMLP):
    """Item embedding network (reference ``ItemEmbedding``)."""


class UserEmbedding(_EmbeddingMLP):
    """User embedding network (reference ``UserEmbedding``)."""
