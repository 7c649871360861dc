print("stylize: not yet")
