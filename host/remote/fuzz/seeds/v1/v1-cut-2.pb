
 

__name__http_requests_total


