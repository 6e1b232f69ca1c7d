require "vacation";
vacation :days 1 text:
Dear sender,
..this line starts with a dot.
I am away.
.
;
