"""Fixed vocabularies of MovieLens-1M and the list files of the reference.

The order of each vocabulary is the feature index the reference assigns
(``prepare_data/prepareList.py`` there); it must not change.
"""

GENDERS = ('M', 'F')
AGES = (1, 18, 25, 35, 45, 50, 56)
OCCUPATIONS = tuple(range(21))
RATES = ('PG-13', 'UNRATED', 'NC-17', 'PG', 'G', 'R')

# Field values that pandas < 2 (which the reference uses) reads as NaN by default; the
# reference then turns NaN into the string 'nan' with str(), so e.g. a genre 'N/A'
# becomes the list entry 'nan'.  (pandas 2 added 'None'; the reference predates it.)
PANDAS_NA_STRINGS = frozenset({
    '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND',
    '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'n/a', 'nan', 'null'})

# Width of the user and item feature vectors' categorical parts.
N_GENDER, N_AGE, N_OCCUPATION, N_RATE = len(GENDERS), len(AGES), len(OCCUPATIONS), len(RATES)
