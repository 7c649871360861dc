// One `import Stylize` gives a library user the whole API: the algorithms here, pictures in and
// out (StylizeIO) and the networks with their weights (StylizeModels).
@_exported import StylizeIO
@_exported import StylizeModels
