"""What a session script is: its parsed model, the parser and step readers, the bundled patterns and
library, limits, languages and wording. Depends on sound/ (names of bundled sounds) and below."""
