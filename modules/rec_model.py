"""The recommender ``RecMAM``: ``[e_u, e_i]`` -> memory layer -> hidden layers -> softmax."""

from mindspore import nn, ops

from modules.activations import activation_func


class RecMAM(nn.Cell):
    """Rating classifier over ``n_y`` classes.

    ``mem_layer`` (no activation) is the layer the task memory personalises. The output is a
    softmax; training applies cross-entropy on top of it, as the published model does.
    """

    def __init__(self, embedding_dim, n_y, n_layer, activation='sigmoid', classification=True):
        super().__init__()
        self.input_size = embedding_dim * 2
        self.mem_layer = nn.Dense(self.input_size, self.input_size)
        fcs = []
        last_size = self.input_size
        for _ in range(n_layer - 1):
            out_dim = int(last_size / 2)
            fcs += [nn.Dense(last_size, out_dim), activation_func(activation)]
            last_size = out_dim
        self.fc = nn.SequentialCell(fcs)
        if classification:
            finals = [nn.Dense(last_size, n_y), activation_func('softmax')]
        else:
            finals = [nn.Dense(last_size, 1)]
        self.final_layer = nn.SequentialCell(finals)

    def construct(self, x1, x2):
        x = ops.concat((x1, x2), 1)
        return self.final_layer(self.fc(self.mem_layer(x)))
