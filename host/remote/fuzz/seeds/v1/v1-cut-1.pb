
 

__name__