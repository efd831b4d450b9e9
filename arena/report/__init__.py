"""`arena report`'s page: the numbers of a run (data.py), their pictures (figures.py) and the one
self-contained HTML file that holds both (page.py). Sits between the commands and the training
layer: it reads the store and training's diversity, and only the command writes the file."""
