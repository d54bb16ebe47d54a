"""Work orders: the three kinds of work, their clocks and timelines."""
