# points: 0
# solved:
