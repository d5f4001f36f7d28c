
j