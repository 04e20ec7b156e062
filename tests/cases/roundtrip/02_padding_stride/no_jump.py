# forgets that strides multiply the step between units: right for stride-1 stacks (dilated or not), 9 instead
# of 12 for source post 003's LeNet (1 visible point) and wrong on the strided hidden stacks (2): 25 - 3 = 22
# points: 22
# solved: answers conv2d conv_output_size pad2d
# %% cell receptive_field
def receptive_field(layers):
    field = 1
    for layer in layers:
        k, s, d = (*layer, 1)[:3]
        if len(layer) not in (2, 3) or k < 1 or s < 1 or d < 1:
            raise ValueError(f'layer {tuple(layer)}: kernel {k}, stride {s}, dilation {d}')
        field += d * (k - 1)
    return field
