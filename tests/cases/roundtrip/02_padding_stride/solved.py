# points: 25
# solved: answers conv2d conv_output_size pad2d receptive_field
