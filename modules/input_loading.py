"""Feature loading layers: categorical user/item features to dense vectors.

``MLUserLoading`` turns ``[gender, age, occupation]`` into three concatenated embeddings;
``MLItemLoading`` turns the 2213 item integers ``[rate, year, genre x25, director x2186]``
into ``[rate, year, sigmoid(genre), sigmoid(director)]`` embeddings, as the reference does.
"""

from mindspore import nn, ops

from utils import BK_FEATURE_SIZES, ML_FEATURE_SIZES


class MLUserLoading(nn.Cell):
    """MovieLens user features ``(B, 3)`` int -> ``(B, 3 * embedding_dim)``."""

    def __init__(self, embedding_dim, n_gender=ML_FEATURE_SIZES['n_gender'],
                 n_age=ML_FEATURE_SIZES['n_age'], n_occupation=ML_FEATURE_SIZES['n_occupation']):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.embedding_gender = nn.Embedding(n_gender, embedding_dim)
        self.embedding_age = nn.Embedding(n_age, embedding_dim)
        self.embedding_occupation = nn.Embedding(n_occupation, embedding_dim)

    def construct(self, x1):
        gender_emb = self.embedding_gender(x1[:, 0])
        age_emb = self.embedding_age(x1[:, 1])
        occupation_emb = self.embedding_occupation(x1[:, 2])
        return ops.concat((gender_emb, age_emb, occupation_emb), 1)


class MLItemLoading(nn.Cell):
    """MovieLens item features ``(B, 2 + n_genre + n_director)`` int -> ``(B, 4 * dim)``.

    Genre and director multi-hots go through bias-free linear maps and a sigmoid.
    """

    def __init__(self, embedding_dim, n_rate=ML_FEATURE_SIZES['n_rate'],
                 n_genre=ML_FEATURE_SIZES['n_genre'], n_director=ML_FEATURE_SIZES['n_director'],
                 n_year=ML_FEATURE_SIZES['n_year']):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.n_genre = n_genre
        self.emb_rate = nn.Embedding(n_rate, embedding_dim)
        self.emb_genre = nn.Dense(n_genre, embedding_dim, has_bias=False)
        self.emb_director = nn.Dense(n_director, embedding_dim, has_bias=False)
        self.emb_year = nn.Embedding(n_year, embedding_dim)

    def construct(self, x2):
        genre_end = 2 + self.n_genre
        rate_emb = self.emb_rate(x2[:, 0])
        year_emb = self.emb_year(x2[:, 1])
        genre_emb = ops.sigmoid(self.emb_genre(x2[:, 2:genre_end].astype('float32')))
        director_emb = ops.sigmoid(self.emb_director(x2[:, genre_end:].astype('float32')))
        return ops.concat((rate_emb, year_emb, genre_emb, director_emb), 1)


class BKUserLoading(nn.Cell):
    """Book-Crossing user features ``(B, 2)`` [age, location] -> ``(B, 2 * dim)``."""

    def __init__(self, embedding_dim, n_age=BK_FEATURE_SIZES['n_age_bk'],
                 n_location=BK_FEATURE_SIZES['n_location']):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.emb_age = nn.Embedding(n_age, embedding_dim)
        self.emb_location = nn.Embedding(n_location, embedding_dim)

    def construct(self, x1):
        return ops.concat((self.emb_age(x1[:, 0]), self.emb_location(x1[:, 1])), 1)


class BKItemLoading(nn.Cell):
    """Book-Crossing item features ``(B, 3)`` [author, year, publisher] -> ``(B, 3 * dim)``,
    concatenated as [year, author, publisher] like the reference."""

    def __init__(self, embedding_dim, n_year=BK_FEATURE_SIZES['n_year_bk'],
                 n_author=BK_FEATURE_SIZES['n_author'],
                 n_publisher=BK_FEATURE_SIZES['n_publisher']):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.emb_year = nn.Embedding(n_year, embedding_dim)
        self.emb_author = nn.Embedding(n_author, embedding_dim)
        self.emb_publisher = nn.Embedding(n_publisher, embedding_dim)

    def construct(self, x2):
        year_emb = self.emb_year(x2[:, 1])
        author_emb = self.emb_author(x2[:, 0])
        publisher_emb = self.emb_publisher(x2[:, 2])
        return ops.concat((year_emb, author_emb, publisher_emb), 1)
