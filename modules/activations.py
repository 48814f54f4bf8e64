"""Activation layers by name, as the reference's ``activation_func``."""

from mindspore import nn


def activation_func(name):
    """An activation Cell: sigmoid, tanh, relu, softmax, leaky_relu (slope 0.1), or identity."""
    name = name.lower()
    if name == 'sigmoid':
        return nn.Sigmoid()
    if name == 'tanh':
        return nn.Tanh()
    if name == 'relu':
        return nn.ReLU()
    if name == 'softmax':
        return nn.Softmax(axis=-1)
    if name == 'leaky_relu':
        return nn.LeakyReLU(0.1)
    return nn.Identity()
