"""The GitHub Actions ``${{ }}`` expression language: lexer, parser, evaluator, functions. Pure."""
